"""fetch() and load(): every way a dataset source can be wrong gets a clear WorkshopError."""

from __future__ import annotations

import hashlib
import socket
import zipfile

import pandas as pd
import pytest

from vgsales import dataset
from vgsales.dataset import EXPECTED_COLUMNS, KNOWN_SHA256, fetch, load
from vgsales.errors import WorkshopError


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- fetch: local sources ----------------------------------------------------------------------------


def test_local_path_is_used_in_place_and_its_checksum_recorded(synthetic_csv, tmp_path):
    cache = tmp_path / "cache"
    fetched = fetch(str(synthetic_csv), cache)
    assert fetched.path == synthetic_csv.resolve()
    assert fetched.sha256 == sha256(synthetic_csv.read_bytes())
    assert fetched.size == synthetic_csv.stat().st_size
    assert fetched.source == str(synthetic_csv)
    assert not fetched.is_known
    assert not cache.exists(), "a local file must not be copied into the cache"


def test_file_url_is_a_local_path(synthetic_csv, tmp_path):
    fetched = fetch(synthetic_csv.resolve().as_uri(), tmp_path / "cache")
    assert fetched.path == synthetic_csv.resolve()


def test_missing_file(tmp_path):
    with pytest.raises(WorkshopError, match=r"does not exist .*nowhere\.csv.*workshop\.data_source"):
        fetch(str(tmp_path / "nowhere.csv"), tmp_path / "cache")


def test_directory_instead_of_a_file(tmp_path):
    with pytest.raises(WorkshopError, match=r"is a directory, not a file.*CSV file inside"):
        fetch(str(tmp_path), tmp_path / "cache")


@pytest.mark.parametrize("content", [b"", b"\r\n\r\n  \n"], ids=["zero-bytes", "blank-lines"])
def test_empty_local_file(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(WorkshopError, match=r"is empty .*interrupted"):
        fetch(str(path), tmp_path / "cache")


def test_saved_html_page_instead_of_csv(tmp_path):
    path = tmp_path / "raw_data.csv"
    path.write_bytes(b"\n<!DOCTYPE html><html><body>Sign in</body></html>")
    with pytest.raises(WorkshopError, match=r"HTML page instead of a CSV .*raw\.githubusercontent\.com"):
        fetch(str(path), tmp_path / "cache")


def test_local_checksum_mismatch_when_a_checksum_is_required(synthetic_csv, tmp_path):
    with pytest.raises(WorkshopError, match=rf"Checksum mismatch: .* not the workshop's file.*{KNOWN_SHA256}") as caught:
        fetch(str(synthetic_csv), tmp_path / "cache", expected_sha256=KNOWN_SHA256)
    assert sha256(synthetic_csv.read_bytes()) in str(caught.value)


def test_local_checksum_match(synthetic_csv, tmp_path):
    digest = sha256(synthetic_csv.read_bytes())
    assert fetch(str(synthetic_csv), tmp_path / "cache", expected_sha256=digest.upper()).sha256 == digest


def test_blank_source(tmp_path):
    with pytest.raises(WorkshopError, match=r"No dataset source is set"):
        fetch("  ", tmp_path)


# --- fetch: URLs -------------------------------------------------------------------------------------


def test_download_is_cached_and_made_once(file_server, synthetic_csv, tmp_path):
    body = synthetic_csv.read_bytes()
    url = file_server.add("/data/raw_data.csv", body)
    cache = tmp_path / "cache"
    first = fetch(url, cache)
    second = fetch(url, cache)
    assert file_server.requests["/data/raw_data.csv"] == 1
    assert first == second
    assert first.path.parent == cache.resolve() and first.path.name.endswith("raw_data.csv")
    assert first.path.read_bytes() == body and first.sha256 == sha256(body) and first.size == len(body)
    assert not [p for p in cache.iterdir() if p.name.startswith(".")], "no temporary file may be left behind"


def test_corrupt_cache_entry_is_downloaded_again(file_server, synthetic_csv, tmp_path):
    body = synthetic_csv.read_bytes()
    url = file_server.add("/raw_data.csv", body)
    cached = fetch(url, tmp_path)
    cached.path.write_bytes(body[: len(body) // 2])  # a truncated copy, as after a full disk
    again = fetch(url, tmp_path)
    assert file_server.requests["/raw_data.csv"] == 2
    assert again.path.read_bytes() == body and again.sha256 == sha256(body)


def test_a_cached_download_is_reused_only_if_it_has_the_expected_checksum(file_server, synthetic_csv, tmp_path):
    """A cache entry intact by its own record but not what the settings now expect (data_sha256 changed, the
    source republished) is downloaded again; near miss: the expected checksum it has is reused."""
    body = synthetic_csv.read_bytes()
    url = file_server.add("/raw_data.csv", body)
    fetch(url, tmp_path)
    assert fetch(url, tmp_path, expected_sha256=sha256(body)).sha256 == sha256(body)
    assert file_server.requests["/raw_data.csv"] == 1, "the expected checksum: reused"
    newer = body + body.splitlines(keepends=True)[1]
    file_server.add("/raw_data.csv", newer)
    again = fetch(url, tmp_path, expected_sha256=sha256(newer))
    assert file_server.requests["/raw_data.csv"] == 2
    assert again.path.read_bytes() == newer and again.sha256 == sha256(newer)


def test_known_url_with_other_content_is_a_checksum_mismatch(file_server, synthetic_csv, tmp_path, monkeypatch):
    url = file_server.add("/raw_data.csv", synthetic_csv.read_bytes())
    monkeypatch.setitem(dataset.KNOWN_CHECKSUMS, url, KNOWN_SHA256)
    cache = tmp_path / "cache"
    with pytest.raises(WorkshopError, match=rf"Checksum mismatch: the dataset from {url} .*{KNOWN_SHA256}"):
        fetch(url, cache)
    assert list(cache.iterdir()) == [], "a download that fails its checksum must not stay in the cache"


def test_http_404(file_server, tmp_path):
    url = file_server.url("/missing.csv")
    with pytest.raises(WorkshopError, match=r"failed with HTTP 404 Not Found\. There is no file at that address"):
        fetch(url, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_http_server_error(file_server, tmp_path):
    url = file_server.add("/flaky.csv", b"oops", status=503, content_type="text/plain")
    with pytest.raises(WorkshopError, match=r"failed with HTTP 503 Service Unavailable\. The server failed"):
        fetch(url, tmp_path)


def test_html_page_by_content_type(file_server, tmp_path):
    url = file_server.add("/blob/raw_data.csv", b"<html>GitHub page</html>", content_type="text/html; charset=utf-8")
    with pytest.raises(
        WorkshopError, match=r"gave an HTML page instead of a CSV \(the server sent Content-Type 'text/html"
    ):
        fetch(url, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_html_page_by_content(file_server, tmp_path):
    url = file_server.add("/page.csv", b"  <!doctype html><title>Error</title>", content_type="text/plain")
    with pytest.raises(WorkshopError, match=r"gave an HTML page instead of a CSV \(its content starts with '<'\)"):
        fetch(url, tmp_path)


def test_empty_download(file_server, tmp_path):
    url = file_server.add("/empty.csv", b"")
    with pytest.raises(WorkshopError, match=r"The dataset http://127\.0\.0\.1:\d+/empty\.csv is empty"):
        fetch(url, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_timeout(file_server, synthetic_csv, tmp_path):
    url = file_server.add("/slow.csv", synthetic_csv.read_bytes(), silent=True)
    with pytest.raises(WorkshopError, match=r"Could not download the dataset .*no answer within 0\.2 s"):
        fetch(url, tmp_path, timeout=0.2)


def test_connection_refused(tmp_path):
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(WorkshopError, match=r"Could not download the dataset .*network error: .*refused"):
        fetch(f"http://127.0.0.1:{port}/raw_data.csv", tmp_path)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("ftp://example.com/raw_data.csv", r"uses the 'ftp' scheme, which is not supported"),
        ("s3://bucket/raw_data.csv", r"'s3' scheme.*aws s3 cp"),
        ("http://example.com/raw_data.csv", r"uses plain http, which anyone on the way can alter"),
        # near misses of loopback: a name that starts like it, an address-like name under another domain
        ("http://localhost.example.com/raw_data.csv", r"uses plain http, which anyone on the way can alter"),
        ("http://127.0.0.1.example.com/raw_data.csv", r"uses plain http, which anyone on the way can alter"),
        ("file://otherhost/data.csv", r"names the host 'otherhost'"),
    ],
)
def test_refused_sources(source, message, tmp_path):
    with pytest.raises(WorkshopError, match=message):
        fetch(source, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_plain_http_to_localhost_by_name_is_allowed(file_server, synthetic_csv, tmp_path):
    url = file_server.add("/by-name.csv", synthetic_csv.read_bytes()).replace("127.0.0.1", "localhost")
    assert fetch(url, tmp_path).sha256 == sha256(synthetic_csv.read_bytes())


def test_redirect_to_plain_http_elsewhere_is_refused(file_server, tmp_path):
    url = file_server.add(
        "/moved.csv", b"", status=302, content_type="text/plain", headers=(("Location", "http://example.com/x.csv"),)
    )
    with pytest.raises(WorkshopError, match=r"http://example\.com/x\.csv uses plain http"):
        fetch(url, tmp_path)


def test_redirect_on_loopback_is_followed(file_server, synthetic_csv, tmp_path):
    file_server.add("/new.csv", synthetic_csv.read_bytes())
    url = file_server.add("/old.csv", b"", status=301, content_type="text/plain", headers=(("Location", "/new.csv"),))
    assert fetch(url, tmp_path).sha256 == sha256(synthetic_csv.read_bytes())


# --- load: the schema ---------------------------------------------------------------------------------


EMULATOR_PROXY = "http://127.0.0.1:41234"


@pytest.mark.parametrize(("host", "user_proxy", "expected"), [
    # the emulator's proxy refuses any host but AWS's, so the dataset goes around it
    ("raw.githubusercontent.com", None, {}),
    ("notamazonaws.com", None, {}),
    ("amazonaws.com.example.org", None, {}),
    # an AWS hostname (an S3 URL) is what that proxy is for
    ("bucket.s3.amazonaws.com", None, {"https": EMULATOR_PROXY}),
    # a proxy of the user's own is kept, whatever the host
    ("raw.githubusercontent.com", "http://proxy.corp:3128", {"https": "http://proxy.corp:3128"}),
])
def test_the_emulators_proxy_is_used_for_aws_hostnames_only(monkeypatch, host, user_proxy, expected):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", user_proxy or EMULATOR_PROXY)
    monkeypatch.setenv("VGSALES_EMULATOR_PROXY_URL", EMULATOR_PROXY)
    assert dataset._proxy_handler(host).proxies == expected


def test_without_the_emulators_mark_its_proxy_is_an_ordinary_one(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", EMULATOR_PROXY)
    monkeypatch.delenv("VGSALES_EMULATOR_PROXY_URL", raising=False)
    assert dataset._proxy_handler("raw.githubusercontent.com").proxies["https"] == EMULATOR_PROXY


def test_load_returns_the_columns_in_the_workshop_order(make_frame, write_dataset):
    frame = make_frame(50)
    path = write_dataset(frame[list(reversed(EXPECTED_COLUMNS))], "reversed.csv")
    loaded = load(path)
    assert tuple(loaded.columns) == EXPECTED_COLUMNS
    assert len(loaded) == 50
    assert loaded["Critic_Score"].dtype == "float64" and loaded["Global_Sales"].dtype == "float64"
    assert "tbd" in set(loaded["User_Score"].dropna())


def test_missing_column_is_named(make_frame, write_dataset):
    path = write_dataset(make_frame(50).drop(columns=["Rating"]), "no-rating.csv")
    with pytest.raises(WorkshopError, match=r"does not have the workshop's schema: it lacks the column 'Rating'\. "):
        load(path)


def test_renamed_column_is_named(make_frame, write_dataset):
    path = write_dataset(make_frame(50).rename(columns={"Critic_Score": "CriticScore"}), "renamed.csv")
    with pytest.raises(
        WorkshopError,
        match=r"it lacks the column 'Critic_Score' and it has the unexpected column 'CriticScore' \(renamed\?\)",
    ):
        load(path)


def test_extra_column_is_refused(make_frame, write_dataset):
    frame = make_frame(50)
    frame.insert(0, "Unnamed: 0", range(50))
    with pytest.raises(WorkshopError, match=r"it has the unexpected column 'Unnamed: 0'\. The expected columns are"):
        load(write_dataset(frame, "indexed.csv"))


@pytest.mark.parametrize(
    ("column", "bad", "allowed_text"),
    [("Critic_Score", "great", ""), ("Global_Sales", "1,2M", ""), ("User_Score", "eight", " or 'tbd'")],
)
def test_non_numeric_score_is_named_with_an_example_and_its_line(column, bad, allowed_text, make_frame, write_dataset):
    frame = make_frame(50)
    frame[column] = frame[column].astype(object)
    frame.loc[6, column] = bad
    frame.loc[9, column] = bad
    path = write_dataset(frame, "bad-scores.csv")
    with pytest.raises(WorkshopError) as caught:
        load(path)
    message = str(caught.value)
    assert f"The column {column} of the dataset {path.as_posix()} must hold numbers{allowed_text}" in message
    assert f"2 value(s) are not, e.g. {bad!r} on line 8" in message
    assert path.read_text().splitlines()[7].count(bad) == 1, "line 8 of the file is the row the message names"


def test_tbd_and_blank_user_scores_are_allowed(make_frame, write_dataset):
    frame = make_frame(30, tbd_fraction=0.5)
    frame.loc[3, "User_Score"] = None
    assert load(write_dataset(frame, "tbd.csv"))["User_Score"].isin(["tbd"]).any()


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(WorkshopError, match=r"is empty \(0 bytes or only blank lines\)"):
        load(path)


def test_header_only(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text(",".join(EXPECTED_COLUMNS) + "\r\n")
    with pytest.raises(WorkshopError, match=r"has a header but no data rows\. The workshop's file has 16,719 rows"):
        load(path)


def test_binary_file_is_not_a_csv(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(bytes(range(128, 256)) * 4)
    with pytest.raises(WorkshopError, match=r"is not UTF-8 text .*so it is not the workshop's CSV"):
        load(path)


def test_zip_archive_is_not_a_csv(synthetic_csv, tmp_path):
    path = tmp_path / "download.csv"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(synthetic_csv, "Video_Games_Sales_as_at_22_Dec_2016.csv")
    with pytest.raises(WorkshopError, match=r"is a zip archive, not a CSV\. Extract the CSV"):
        load(path)


def test_unrelated_text_file(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("hello world\nthis is not it\n")
    with pytest.raises(WorkshopError, match=r"has none of the expected columns \(found: 'hello world'\)"):
        load(path)


def test_semicolon_separated_file(tmp_path, make_frame):
    path = tmp_path / "semicolons.csv"
    make_frame(20).to_csv(path, index=False, sep=";")
    with pytest.raises(WorkshopError, match=r"is separated by semicolons; the workshop expects a comma-separated"):
        load(path)


def test_malformed_csv_row(make_frame, write_dataset):
    path = write_dataset(make_frame(20), "ragged.csv")
    lines = path.read_text().splitlines()
    lines[5] += ",an,extra,field"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(WorkshopError, match=r"is not a well-formed CSV: pandas reports 'Error tokenizing data.*line 6"):
        load(path)


def test_html_file_is_refused_by_load(tmp_path):
    path = tmp_path / "page.csv"
    path.write_text("<html><body>404</body></html>")
    with pytest.raises(WorkshopError, match=r"HTML page instead of a CSV"):
        load(path)


def test_validate_frame_accepts_what_load_returns(synthetic_csv):
    frame = load(synthetic_csv)
    pd.testing.assert_frame_equal(dataset.validate_frame(frame), frame)
