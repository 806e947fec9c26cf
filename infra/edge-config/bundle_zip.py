"""The Lambda@Edge bundle's zip: one layout for every zip of the bundle.

scripts/build-edge writes dist/edge-auth.zip with it (the size
docs/benchmarks.md reports against its budget) and the EdgeConfig custom
resource (edge_config.py) publishes the stack's bundle with it, so the zip
that is measured is the zip that is deployed. Entries are sorted, dated
2020-01-01 and 0644, and deflated at level 9, so the same files always make
the same bytes (the custom resource publishes by the code's SHA-256).

Usage: python3 bundle_zip.py DIR ZIP   (every file of DIR into ZIP)
"""

import io
import os
import sys
import zipfile


def bundle_zip(files):
    """The zip of `files`, `(name, bytes)` pairs, in name order."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name, data in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, data, compresslevel=9)
    return out.getvalue()


def directory_files(directory):
    """Every file of `directory` as `(name, bytes)` pairs."""
    for name in os.listdir(directory):
        with open(os.path.join(directory, name), "rb") as f:
            yield name, f.read()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: bundle_zip.py DIR ZIP")
    with open(sys.argv[2], "wb") as f:
        f.write(bundle_zip(directory_files(sys.argv[1])))
