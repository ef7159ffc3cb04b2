"""`invoke data`: fetch and check the dataset, preprocess it as the workshop did, upload train/validation.

Everything that can be wrong with the input is found before the first upload: the download and checksum
(dataset.fetch), the schema (dataset.load), and the splits (features.prepare).
"""

from __future__ import annotations

import boto3
from rich.table import Table

from .. import dataset, features, target
from ..cli.console import console, step
from ..records import DataRecord, StackRecord
from ..settings import Settings
from ..state import RunState

UPLOADED_SPLITS = ("train", "validation")  # the test split stays local, for evaluate


def run(settings: Settings) -> DataRecord:
    state = RunState(settings)
    stack = state.read(StackRecord)
    with step(f"Fetching the dataset from {settings.data_source}"):
        fetched = dataset.fetch(settings.data_source, state.cache_dir)
    with step("Checking the schema and preprocessing as the workshop did"):
        prepared = features.prepare(dataset.load(fetched.path))
        manifest = features.write_splits(prepared, state.data_dir, fetched)
    bucket = stack.bucket_name
    uris = {}
    with target.activate(settings):
        s3 = boto3.client("s3", region_name=settings.region)
        for split in UPLOADED_SPLITS:
            key = f"{settings.data_prefix}/{split}/{split}.libsvm"
            with step(f"Uploading {split}.libsvm to s3://{bucket}/{key}"):
                s3.upload_file(str(state.data_dir / f"{split}.libsvm"), bucket, key)
            uris[f"{split}_uri"] = f"s3://{bucket}/{settings.data_prefix}/{split}/"
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
    _print_summary(manifest, fetched)
    console.print(f"Splits and manifest (feature order) in {state.data_dir}: {features.MANIFEST_NAME}, test.libsvm stays local.", markup=False)
    return record


def _print_summary(manifest: features.Manifest, fetched: dataset.FetchedDataset) -> None:
    table = Table(title=f"Dataset: {manifest.rows:,} rows after dropping missing reviews, {manifest.n_features} features")
    for column in ("split", "rows", "hits", "hit rate"):
        table.add_column(column, justify="right")
    for name, split in manifest.splits.items():
        table.add_row(name, f"{split.rows:,}", f"{split.hits:,}", f"{split.hits / split.rows:.1%}")
    console.print(table)
    origin = "the workshop's file (sha256 verified)" if fetched.is_known else f"sha256 {fetched.sha256[:12]}…"
    console.print(f"Source: {fetched.source} — {origin}")
