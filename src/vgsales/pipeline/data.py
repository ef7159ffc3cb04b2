"""`invoke data`: fetch and check the dataset, preprocess it as the workshop did, upload train/validation.

Everything that can be wrong with the input is found before the first upload: the download and checksum
(dataset.fetch), the schema (dataset.load), and the splits (features.prepare).
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from .. import dataset, features
from ..context import Context
from ..output import console, step
from ..records import DataRecord, StackRecord
from ..settings import Settings

UPLOADED_SPLITS = ("train", "validation")  # the test split stays local, for evaluate


def run(ctx: Context) -> DataRecord:
    settings, state = ctx.settings, ctx.state
    stack = state.read(StackRecord)
    with step(f"Fetching the dataset from {settings.data_source}"):
        # Checked against workshop.data_sha256 before anything else: a truncated copy would train without an error.
        fetched = dataset.fetch(settings.data_source, state.cache_dir, expected_sha256=settings.data_sha256)
    with step("Checking the schema and preprocessing as the workshop did"):
        prepared = features.prepare(dataset.load(fetched.path))
        manifest = features.write_splits(prepared, state.data_dir, fetched)
    bucket = stack.bucket_name
    uris = {}
    shards = settings.training.instance_count
    s3 = ctx.aws.client("s3")
    for split in UPLOADED_SPLITS:
        folder = f"{settings.data_prefix}/{split}/"
        written = []
        for name, body in shard_files(state.data_dir / f"{split}.libsvm", split, shards):
            key = folder + name
            with step(f"Uploading {name} to s3://{bucket}/{key}"):
                s3.put_object(Bucket=bucket, Key=key, Body=body)
            written.append(key)
        # A channel is every object under its prefix: files of an earlier run with another instance count
        # would be read too, twice the data.
        _remove_others(s3, bucket, folder, set(written))
        uris[f"{split}_uri"] = f"s3://{bucket}/{folder}"
    record = DataRecord(
        **uris,
        manifest=str(state.data_dir / features.MANIFEST_NAME),
        test_split=str(state.data_dir / "test.libsvm"),
        sha256=fetched.sha256,
        known_dataset=fetched.is_known,
        n_features=manifest.n_features,
        counts={name: {"rows": split.rows, "hits": split.hits} for name, split in manifest.splits.items()},
    )
    state.write(record)
    _print_summary(manifest, fetched, settings)
    console.print(f"Splits and manifest (feature order) in {state.data_dir}: {features.MANIFEST_NAME}, test.libsvm stays local.", markup=False)
    return record


def shard_files(path: Path, split: str, shards: int) -> list[tuple[str, bytes]]:
    """The split as uploaded: one `<split>.libsvm`, or, for a training job of N > 1 instances, N files
    `<split>-<i>-of-<N>.libsvm` of consecutive rows (the split is already shuffled), so that ShardedByS3Key gives
    every instance its share; with fewer objects than instances, an instance gets none and sits idle."""
    content = path.read_bytes()
    if shards <= 1:
        return [(f"{split}.libsvm", content)]
    lines = content.splitlines(keepends=True)
    size = -(-len(lines) // shards)  # ceiling: the last shard may be shorter
    pieces = [b"".join(lines[index * size:(index + 1) * size]) for index in range(shards)]
    return [(f"{split}-{index + 1}-of-{shards}.libsvm", piece) for index, piece in enumerate(pieces) if piece]


def _remove_others(s3, bucket: str, folder: str, keep: set[str]) -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder):
        for item in page.get("Contents", []):
            if item["Key"] not in keep:
                s3.delete_object(Bucket=bucket, Key=item["Key"])


def _print_summary(manifest: features.Manifest, fetched: dataset.FetchedDataset, settings: Settings) -> None:
    table = Table(title=f"Dataset: {manifest.rows:,} rows after dropping missing reviews, {manifest.n_features} features")
    for column in ("split", "rows", "hits", "hit rate"):
        table.add_column(column, justify="right")
    for name, split in manifest.splits.items():
        table.add_row(name, f"{split.rows:,}", f"{split.hits:,}", f"{split.hits / split.rows:.1%}")
    console.print(table)
    if fetched.is_known:
        origin = "the workshop's file (sha256 verified)"
    elif settings.data_sha256 is not None:
        origin = f"sha256 {fetched.sha256[:12]}… as workshop.data_sha256 requires (not the workshop's file)"
    else:
        origin = f"sha256 {fetched.sha256[:12]}…, not the workshop's file (accepted: workshop.data_sha256 is any)"
    console.print(f"Source: {fetched.source} — {origin}")
