#!/usr/bin/env python3
"""Checks that an image archive of tools/images/build.sh holds what its recipe says.

usage: check_image.py IMAGES_DIR ARCHIVE NAME [VERSIONS_JSON]

- the index names the reference versions.json gives NAME;
- every file of IMAGES_DIR/NAME/rootfs/ is in the layer at its path, a regular file with the
  same bytes and the same executable bit;
- for a Debian image (one with rootfs/), every file of IMAGES_DIR/lib/ is in
  /usr/local/lib/cdk8s-stateful/ with the same bytes;
- every Debian package versions.json pins for NAME is installed in the image at that version
  (the layer's /var/lib/dpkg/status; an image made of files taken from packages, busybox, has no
  package database and is not checked for them).
Prints each difference and exits 1 when there is one.
"""
import hashlib
import json
import os
import sys
import tarfile


def sha(data):
    return hashlib.sha256(data).hexdigest()


def read_archive(path):
    """(index, layer members by path, layer tar) of an OCI archive with one layer."""
    outer = tarfile.open(path)
    index = json.load(outer.extractfile('index.json'))
    manifest_digest = index['manifests'][0]['digest'].split(':', 1)[1]
    manifest = json.load(outer.extractfile(f'blobs/sha256/{manifest_digest}'))
    layer_digest = manifest['layers'][0]['digest'].split(':', 1)[1]
    layer = tarfile.open(fileobj=outer.extractfile(f'blobs/sha256/{layer_digest}'))
    members = {}
    for m in layer.getmembers():
        members[os.path.normpath('/' + m.name)] = m
    return index, members, layer


def dpkg_versions(layer, members):
    status = members.get('/var/lib/dpkg/status')
    if status is None:
        return {}
    text = layer.extractfile(status).read().decode('utf-8', 'replace')
    installed = {}
    for stanza in text.split('\n\n'):
        fields = {}
        for line in stanza.splitlines():
            if ':' in line and not line.startswith(' '):
                key, value = line.split(':', 1)
                fields[key] = value.strip()
        if fields.get('Status', '').endswith(' installed') and 'Package' in fields:
            installed[fields['Package']] = fields.get('Version', '')
    return installed


def expected_files(src_dir, dest):
    """(path in the image, path on disk) of every file under src_dir."""
    for top, _dirs, files in os.walk(src_dir):
        for f in files:
            disk = os.path.join(top, f)
            yield os.path.normpath(os.path.join(dest, os.path.relpath(disk, src_dir))), disk


def check(images_dir, archive, name, versions_path):
    problems = []
    entry = json.load(open(versions_path))[name]
    index, members, layer = read_archive(archive)
    ref = index['manifests'][0].get('annotations', {}).get('io.containerd.image.name')
    if ref != entry['image']:
        problems.append(f'the archive names {ref!r}, versions.json {entry["image"]!r}')
    rootfs = os.path.join(images_dir, name, 'rootfs')
    files = list(expected_files(rootfs, '/')) if os.path.isdir(rootfs) else []
    if os.path.isdir(rootfs):
        files += list(expected_files(os.path.join(images_dir, 'lib'), '/usr/local/lib/cdk8s-stateful'))
    for image_path, disk in files:
        m = members.get(image_path)
        if m is None:
            problems.append(f'{image_path} (from {disk}) is not in the image')
            continue
        if not m.isfile():
            kind = f'a symlink to {m.linkname}' if m.issym() else 'not a regular file'
            problems.append(f'{image_path} is {kind}, not the recipe\'s file {disk}')
            continue
        want = open(disk, 'rb').read()
        if sha(layer.extractfile(m).read()) != sha(want):
            problems.append(f'{image_path} differs from {disk}')
        if bool(m.mode & 0o111) != os.access(disk, os.X_OK):
            problems.append(f'{image_path} mode {oct(m.mode)} differs from {disk} in its executable bit')
    installed = dpkg_versions(layer, members)
    for pkg, version in sorted(entry.get('debian', {}).items() if installed else []):
        got = installed.get(pkg)
        if got != version:
            problems.append(f'package {pkg}: versions.json pins {version}, the image has {got or "none"}')
    for p in problems:
        print(f'{name}: {p}', file=sys.stderr)
    return not problems


def main(argv):
    if len(argv) not in (4, 5):
        sys.exit(__doc__)
    images_dir, archive, name = argv[1:4]
    versions = argv[4] if len(argv) == 5 else os.path.join(images_dir, 'versions.json')
    sys.exit(0 if check(images_dir, archive, name, versions) else 1)


if __name__ == '__main__':
    main(sys.argv)
