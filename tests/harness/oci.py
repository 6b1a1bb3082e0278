"""Builds the tiny private test image as an OCI layout that skopeo can push.

The image holds one static binary, so a real container runtime can also run it. Layer and
config are byte-stable (fixed mtimes and owners), so the same binary gives the same digest.
"""

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def _blob(layout, data, media_type):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest[7:]).write_bytes(data)
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def _layer_tar(binary, name):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = binary.stat().st_size, 0o755, 0
        with binary.open("rb") as handle:
            tar.addfile(info, handle)
    return raw.getvalue()


def build_layout(binary, layout, tag, args=(), annotations=None):
    """Write an OCI image layout at ``layout`` whose ``tag`` runs ``binary`` as /hello with
    ``args``; ``annotations`` are added to the manifest's entry in index.json."""
    layout = Path(layout)
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    tar = _layer_tar(Path(binary), "hello")
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as zipped:
        zipped.write(tar)
    layer = _blob(layout, gz.getvalue(), LAYER)
    config = {
        "architecture": "amd64", "os": "linux",
        "config": {"Entrypoint": ["/hello", *args]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
    }
    config_desc = _blob(layout, json.dumps(config, sort_keys=True).encode(), CONFIG)
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST, "config": config_desc,
                "layers": [layer]}
    manifest_desc = _blob(layout, json.dumps(manifest, sort_keys=True).encode(), MANIFEST)
    manifest_desc["annotations"] = {"org.opencontainers.image.ref.name": tag, **(annotations or {})}
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2,
                                                   "manifests": [manifest_desc]}))
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    return manifest_desc["digest"]


def archive(layout, path):
    """Pack an image layout into a tar archive (what ``ctr images import`` reads), byte-stable."""
    layout = Path(layout)
    with tarfile.open(path, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member in sorted(p for p in layout.rglob("*")):
            info = tar.gettarinfo(str(member), str(member.relative_to(layout)))
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if member.is_file():
                with member.open("rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    return Path(path)
