"""Stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test bootstraps pip in each virtualenv it creates by running a get-pip script that it
fetches from a host this machine cannot reach, unless the script is already in its cache.
scripts/ansible-test copies this file into that cache. It does the same job offline: pip comes
from the interpreter's own bundled wheel (ensurepip), then the pinned packages ansible-test
asked for are installed from the package index, as get-pip would.
"""

import subprocess
import sys

GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}

args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install", *args])
