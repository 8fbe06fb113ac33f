#!/usr/bin/env python3
"""Writes an OCI image archive (oci-layout, index.json, blobs) from one layer tar.

Used by images/build.sh; not a general tool. The archive is what `ctr -n k8s.io images import`
takes: its index names the image with its full reference (`io.containerd.image.name` and
`org.opencontainers.image.ref.name`). The output is deterministic: a fixed creation date, sorted
JSON, tar entries in a fixed order with zero times and owners.

usage: oci.py LAYER_TAR REFERENCE CONFIG_JSON OUT_TAR
  CONFIG_JSON is the image's runtime config (Entrypoint, Cmd, Env, User, WorkingDir, ...) as JSON.
"""
import hashlib
import io
import json
import os
import sys
import tarfile

CREATED = '1970-01-01T00:00:00Z'


def digest_of_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return 'sha256:' + h.hexdigest()


def blob(data):
    return 'sha256:' + hashlib.sha256(data).hexdigest(), data


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(',', ':')).encode()


def add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def main(layer_path, reference, runtime_config, out_path):
    layer_digest = digest_of_file(layer_path)
    layer_size = os.path.getsize(layer_path)
    config = {
        'architecture': 'amd64',
        'os': 'linux',
        'created': CREATED,
        'config': json.loads(runtime_config),
        'rootfs': {'type': 'layers', 'diff_ids': [layer_digest]},
        'history': [{'created': CREATED, 'created_by': 'cdk8s-stateful images/build.sh'}],
    }
    config_digest, config_bytes = blob(canonical(config))
    manifest = {
        'schemaVersion': 2,
        'mediaType': 'application/vnd.oci.image.manifest.v1+json',
        'config': {'mediaType': 'application/vnd.oci.image.config.v1+json',
                   'digest': config_digest, 'size': len(config_bytes)},
        'layers': [{'mediaType': 'application/vnd.oci.image.layer.v1.tar',
                    'digest': layer_digest, 'size': layer_size}],
    }
    manifest_digest, manifest_bytes = blob(canonical(manifest))
    index = {
        'schemaVersion': 2,
        'mediaType': 'application/vnd.oci.image.index.v1+json',
        'manifests': [{
            'mediaType': 'application/vnd.oci.image.manifest.v1+json',
            'digest': manifest_digest,
            'size': len(manifest_bytes),
            'platform': {'architecture': 'amd64', 'os': 'linux'},
            'annotations': {
                'io.containerd.image.name': reference,
                'org.opencontainers.image.ref.name': reference,
            },
        }],
    }
    tmp = out_path + '.tmp'
    with tarfile.open(tmp, 'w', format=tarfile.PAX_FORMAT) as tar:
        add_bytes(tar, 'oci-layout', canonical({'imageLayoutVersion': '1.0.0'}))
        add_bytes(tar, 'index.json', canonical(index))
        for d, data in sorted([(config_digest, config_bytes), (manifest_digest, manifest_bytes)]):
            add_bytes(tar, 'blobs/sha256/' + d.split(':')[1], data)
        info = tarfile.TarInfo('blobs/sha256/' + layer_digest.split(':')[1])
        info.size = layer_size
        info.mode = 0o644
        with open(layer_path, 'rb') as f:
            tar.addfile(info, f)
    os.replace(tmp, out_path)
    print(manifest_digest)


if __name__ == '__main__':
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
