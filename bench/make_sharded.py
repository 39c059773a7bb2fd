#!/usr/bin/env python3
"""Write a CEP-16 sharded form of a channel's repodata.json (for bench/remote_bench.py).

For each subdir: one msgpack+zstd shard per package name under `shards/<sha256>.msgpack.zst`
(named by the hash of its compressed bytes, as rattler checks) and the index
`repodata_shards.msgpack.zst`. Needs msgpack and zstandard (the bench venv).

    make_sharded.py SRC_CHANNEL_DIR OUT_CHANNEL_DIR
"""
import hashlib, json, os, sys
from pathlib import Path

import msgpack
import zstandard


def shard_subdir(src: Path, out: Path, subdir: str):
    rd = json.loads((src / subdir / "repodata.json").read_text())
    by_name = {}
    for key in ("packages", "packages.conda"):
        for fn, record in rd.get(key, {}).items():
            record = dict(record)
            for h in ("md5", "sha256"):
                if isinstance(record.get(h), str):
                    record[h] = bytes.fromhex(record[h])
            shard = by_name.setdefault(record["name"], {"packages": {}, "packages.conda": {}, "removed": []})
            shard[key][fn] = record
    cctx = zstandard.ZstdCompressor(level=3)
    shards_dir = out / subdir / "shards"
    shards_dir.mkdir(parents=True, exist_ok=True)
    hashes = {}
    for name, shard in by_name.items():
        data = cctx.compress(msgpack.packb(shard, use_bin_type=True))
        digest = hashlib.sha256(data).digest()
        (shards_dir / f"{digest.hex()}.msgpack.zst").write_bytes(data)
        hashes[name] = digest
    index = {"info": {"subdir": subdir, "base_url": "./", "shards_base_url": "./shards/"}, "shards": hashes}
    (out / subdir / "repodata_shards.msgpack.zst").write_bytes(cctx.compress(msgpack.packb(index, use_bin_type=True)))
    return len(by_name)


def main():
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    for subdir in ("linux-64", "noarch"):
        if (src / subdir / "repodata.json").exists():
            print(subdir, shard_subdir(src, out, subdir), "shards")


if __name__ == "__main__":
    main()
