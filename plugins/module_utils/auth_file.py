# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Docker ``config.json`` or Podman ``auth.json`` with registry entries merged in, and the
sidecar that remembers when the tokens written there expire.

The pure part builds the new JSON from the old one: every key other than the managed entries of
``auths`` is kept as it was (``credHelpers``, ``credsStore``, ``proxies``, other registries), and
an entry for the same registry under another spelling (``docker.io`` and
``https://index.docker.io/v1/``) is replaced, not doubled. Entries are written as
``docker login`` and ``podman login`` write them: only ``auth``, base64 of ``user:password``.

The sidecar ``<file>.regcred.json`` holds, per credential, its server, username, provider,
expiry and ``source`` (a hash of the non-secret inputs that minted it): no secret. A later run
reuses the token in the auth file while its sidecar record is fresh, so it neither mints nor
writes.

The I/O part writes atomically (a temporary file in the same directory, fsync, rename), keeping
the mode, owner and group of an existing file (a new one gets 0600). A rename gives the path a new
file, so a file with other hard links is refused rather than left stale behind them. Writers that
follow the same convention are serialised with ``flock`` on ``<file>.lock``, which is removed
afterwards, whether the write succeeded or not.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import fcntl
import json
import os
import stat
import tempfile

from ansible_collections.regcred.k8s.plugins.module_utils import dockerconfig
from ansible_collections.regcred.k8s.plugins.module_utils.errors import InputError
from ansible_collections.regcred.k8s.plugins.module_utils.records import Stored

SIDECAR_SUFFIX = ".regcred.json"
LOCK_SUFFIX = ".lock"
FILE_MODE = 0o600
DIR_MODE = 0o700
# An auth file is a few KiB; this refuses to load anything that is plainly not one.
MAX_BYTES = 4 * 1024 * 1024
ADDED, CHANGED, UNCHANGED = "added", "changed", "unchanged"


class AuthFileError(InputError):
    """The auth file cannot be read, parsed or written. The message starts with ``dest:``."""

    def __init__(self, message):
        super(AuthFileError, self).__init__("dest", message)


def sidecar_path(path):
    return path + SIDECAR_SUFFIX


def lock_path(path):
    return path + LOCK_SUFFIX


# pure -------------------------------------------------------------------------------------------
def parse(data, path):
    """The JSON object of an auth file's bytes; an empty file is an empty object."""
    if not data.strip():
        return {}
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise AuthFileError("%s is not valid JSON (%s); fix or remove it, it is left as it is" % (path, exc))
    if not isinstance(doc, dict):
        raise AuthFileError("%s must hold a JSON object" % path)
    if not isinstance(doc.get("auths", {}), dict):
        raise AuthFileError("%s: auths must be an object" % path)
    return doc


def parse_sidecar(data):
    """The records of a sidecar. Anything unreadable counts as no records: the tokens are then
    minted again and the sidecar rewritten, which is always safe."""
    try:
        doc = json.loads(data.decode("utf-8")) if data else {}
    except (UnicodeDecodeError, ValueError):
        return []
    records = doc.get("credentials") if isinstance(doc, dict) else None
    if not isinstance(records, list):
        return []
    return [r for r in records if isinstance(r, dict) and isinstance(r.get("server"), str)]


def serialize(doc):
    """Tab-indented, as the Docker and Podman clients write it."""
    return (json.dumps(doc, indent="\t", ensure_ascii=False) + "\n").encode("utf-8")


def serialize_sidecar(records):
    return (json.dumps({"credentials": records}, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _login(server, raw):
    """The dockerconfig entry (username and password) an auth file entry holds, or None when it
    holds none: an identity token, a credential helper's empty entry, or garbage."""
    try:
        return dockerconfig.parse({"auths": {server: raw}}, "auths").get(server)
    except dockerconfig.DockerConfigError:
        return None


def merge(doc, entries):
    """A new auth file object: ``doc`` with ``entries`` (``{server: dockerconfig entry}``) written
    over any entry for the same registry. ``doc`` is not changed."""
    managed = dict((server, {"auth": e["auth"]}) for server, e in entries.items())
    auths = dockerconfig.merge(doc.get("auths") or {}, managed, True)
    result = dict(doc)
    result["auths"] = dict(sorted(auths.items()))
    return result


def merge_records(old, new, doc):
    """The sidecar records after a write: ``new`` for the managed registries, and the old records
    of other registries that ``doc`` still has an entry for (another task's tokens)."""
    covered = set(dockerconfig.normalize_key(r["server"]) for r in new)
    auths = doc.get("auths") or {}
    kept = [r for r in old if dockerconfig.normalize_key(r["server"]) not in covered and r["server"] in auths]
    return sorted(kept + list(new), key=lambda r: (r["server"], r.get("source") or ""))


def stored(doc, records):
    """What the auth file ``doc`` and its sidecar ``records`` hold, for minting.collect: the
    entries that hold a user name and password."""
    logins = ((server, _login(server, raw)) for server, raw in (doc.get("auths") or {}).items())
    return Stored(records, dict((server, login) for server, login in logins if login is not None))


def changes(doc, entries):
    """``{server: added|changed|unchanged}`` for each managed entry against the file as it is."""
    auths = doc.get("auths") or {}
    by_key = {}
    for server in auths:
        by_key.setdefault(dockerconfig.normalize_key(server), []).append(server)
    result = {}
    for server, entry in entries.items():
        same = by_key.get(dockerconfig.normalize_key(server), [])
        if not same:
            result[server] = ADDED
        elif same == [server] and auths[server] == {"auth": entry["auth"]}:
            result[server] = UNCHANGED
        else:
            result[server] = CHANGED
    return result


def _view(doc):
    shown = {}
    for server, raw in (doc.get("auths") or {}).items():
        login = _login(server, raw)
        shown[server] = {"username": login["username"] if login else None}
    return {"auths": shown}


def diff(before_doc, after_doc, entries, records):
    """(before, after) views for diff mode: registries and user names, and for each managed
    credential its expiry and whether it is added, changed or unchanged. Never a password, a
    token or a hash of one (a hash would let a weak password be guessed offline)."""
    before, after = _view(before_doc), _view(after_doc)
    expiry = dict((r["server"], r.get("expires_at")) for r in records)
    for server, change in changes(before_doc, entries).items():
        after["auths"][server].update(credential=change, expires_at=expiry.get(server))
    return before, after


# I/O --------------------------------------------------------------------------------------------
def _read_bytes(path, missing):
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return missing
        raise AuthFileError("cannot read %s: %s" % (path, exc.strerror or exc))
    if len(data) > MAX_BYTES:
        raise AuthFileError("%s is larger than %d bytes; it is not an auth file" % (path, MAX_BYTES))
    return data


def _refuse_hard_links(path):
    try:
        links = os.stat(path).st_nlink
    except OSError:
        return
    if links > 1:
        raise AuthFileError("%s has %d hard links; it is replaced atomically by a new file, which would leave "
                            "the other links with the old content. Remove the other links (a symbolic link "
                            "is followed and works), or point dest at a file of its own" % (path, links))


def read(path):
    """``(doc, records)``: the auth file's object (empty when missing) and its sidecar's records.
    A file or sidecar with other hard links is refused here, before anything is minted."""
    if os.path.isdir(path):
        raise AuthFileError("%s is a directory; give the path of the file" % path)
    for name in (path, sidecar_path(path)):
        _refuse_hard_links(name)
    doc = parse(_read_bytes(path, b""), path)
    return doc, parse_sidecar(_read_bytes(sidecar_path(path), b""))


def _owner(path):
    """The (uid, gid) a file written at ``path`` should have: its own if it exists, else its
    directory's. Only root changes owners; run as root for another user (become), a rename would
    otherwise hand the user's auth file to root, and the user's docker or podman could no longer
    read it. The Docker CLI keeps the owner the same way."""
    for candidate in (path, os.path.dirname(path)):
        try:
            info = os.stat(candidate)
        except OSError:
            continue
        return info.st_uid, info.st_gid
    return None


def _chown(fd, owner):
    if owner and os.geteuid() == 0 and owner != (os.geteuid(), os.getegid()):
        os.fchown(fd, owner[0], owner[1])


def make_parents(path):
    """Create the missing directories above ``path``, each with mode 0700 (the files hold logins)."""
    directory = os.path.dirname(path)
    missing = []
    while directory and not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
            fd = os.open(directory, os.O_RDONLY)
            try:
                _chown(fd, _owner(os.path.dirname(directory)))
            finally:
                os.close(fd)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise AuthFileError("cannot create the directory %s: %s" % (directory, exc.strerror or exc))


def _names(fd, name):
    """Whether ``name`` is still the file open as ``fd``."""
    try:
        found = os.stat(name)
    except OSError:
        return False
    held = os.fstat(fd)
    return (found.st_dev, found.st_ino) == (held.st_dev, held.st_ino)


def _lock(name):
    """A descriptor holding an exclusive ``flock`` on the file ``name`` names now."""
    while True:
        try:
            fd = os.open(name, os.O_RDWR | os.O_CREAT, FILE_MODE)
        except OSError as exc:
            raise AuthFileError("cannot open the lock file %s: %s" % (name, exc.strerror or exc))
        try:
            _chown(fd, _owner(name))
            fcntl.flock(fd, fcntl.LOCK_EX)
            # The holder before us removed the file we waited on: lock the one the name has now.
            if _names(fd, name):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


@contextlib.contextmanager
def locked(path):
    """Hold an exclusive ``flock`` on ``<path>.lock`` for the body: another writer that follows the
    convention waits, so its read-merge-write and ours cannot interleave and drop an entry.

    The lock file is removed when the body ends, also when it fails, while the lock is still
    held. The convention therefore includes one more step: after ``flock``, check that the path
    still names the locked file, and start again if it does not."""
    name = lock_path(path)
    fd = _lock(name)
    try:
        yield
    finally:
        try:
            with contextlib.suppress(OSError):
                os.unlink(name)
        finally:
            os.close(fd)  # closing the descriptor releases the lock


def _keep_group(fd, gid):
    """As a user other than root, give ``fd`` the group ``gid`` of the file it replaces, which a
    member of that group may do. Failing that, the write fails: under another group, a file with
    group read access would be readable by other people."""
    if os.geteuid() != 0 and os.fstat(fd).st_gid != gid:
        os.fchown(fd, -1, gid)


def write_atomic(path, data):
    """Replace ``path`` with ``data`` so a reader sees the old or the new file, never a part. The
    new file gets the mode, owner and group of the old one; a new file gets mode 0600."""
    directory = os.path.dirname(path) or "."
    owner = _owner(path)
    try:
        old = os.stat(path)
    except OSError:
        old = None
    try:
        fd, temp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise AuthFileError("cannot write in %s: %s" % (directory, exc.strerror or exc))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            _chown(handle.fileno(), owner)
            if old is not None:
                _keep_group(handle.fileno(), old.st_gid)
            # After the owner: a change of owner may clear mode bits.
            os.fchmod(handle.fileno(), stat.S_IMODE(old.st_mode) if old is not None else FILE_MODE)
            os.fsync(handle.fileno())
        os.rename(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise AuthFileError("cannot write %s: %s" % (path, exc.strerror or exc))
    # The rename is durable only once the directory entry is on disk.
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
