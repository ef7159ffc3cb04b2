"""Get the workshop's dataset (a URL or a local path), check it, and load it with its schema validated.

Everything a user can get wrong here (a typo in the URL, an HTML error page, a truncated download, a file
with renamed columns) is raised as a WorkshopError before anything is uploaded or trained.
"""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import json
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from pandas.api.types import is_numeric_dtype

from vgsales.errors import WorkshopError
from vgsales.loopback import EMULATOR_PROXY_ENV

# The copy every AWS workshop notebook has downloaded since 2020.
KNOWN_SOURCE_URL = "https://raw.githubusercontent.com/awslabs/amazon-sagemaker-workshop/master/data/raw_data.csv"
KNOWN_SHA256 = "4ad802a9e51792e7a96b84da4501e5f64c97484d937ede9441d2e1145c1d7b03"
KNOWN_SIZE = 1_618_040
# Sources whose content is known, so a different download is a corruption, not another dataset.
KNOWN_CHECKSUMS: dict[str, str] = {KNOWN_SOURCE_URL: KNOWN_SHA256}

EXPECTED_COLUMNS: tuple[str, ...] = (
    "Name", "Platform", "Year_of_Release", "Genre", "Publisher",
    "NA_Sales", "EU_Sales", "JP_Sales", "Other_Sales", "Global_Sales",
    "Critic_Score", "Critic_Count", "User_Score", "User_Count", "Developer", "Rating",
)  # fmt: skip
# Columns the preprocessing does arithmetic on; the others are dropped or one-hot encoded.
NUMERIC_COLUMNS: tuple[str, ...] = ("Critic_Score", "Global_Sales")
# User scores not yet given are 'tbd' in the source; the preprocessing replaces them.
USER_SCORE_PLACEHOLDER = "tbd"

DOWNLOAD_TIMEOUT_SECONDS = 60.0
# The real file is 1.6 MB: anything this large is not it, and must not fill the disk.
MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024
_CHUNK = 64 * 1024
_SETTING = "workshop.data_source (environment variable INVOKE_WORKSHOP_DATA_SOURCE)"
_SHA_SETTING = "workshop.data_sha256"
_SHA_VARIABLE = "INVOKE_WORKSHOP_DATA_SHA256"


@dataclass(frozen=True)
class FetchedDataset:
    """A dataset file on local disk and where it came from."""

    path: Path
    sha256: str
    source: str
    size: int

    @property
    def is_known(self) -> bool:
        """True when this is byte for byte the file the workshop published its results on."""
        return self.sha256 == KNOWN_SHA256


def fetch(
    source: str,
    cache_dir: Path,
    *,
    expected_sha256: str | None = None,
    timeout: float = DOWNLOAD_TIMEOUT_SECONDS,
) -> FetchedDataset:
    """Return a local, checked copy of ``source``: an https URL, a loopback http URL, a file:// URL or a path.

    URLs are downloaded once into ``cache_dir``; a local path is used where it is. The content must match
    ``expected_sha256`` when given, else the known checksum when ``source`` is a known URL.
    """
    source = str(source).strip()
    if not source:
        raise WorkshopError(
            f"No dataset source is set. Set {_SETTING} to the public URL ({KNOWN_SOURCE_URL}) or to the path "
            "of a local copy of the CSV."
        )
    expected = (expected_sha256 or KNOWN_CHECKSUMS.get(source) or "").lower() or None
    parsed = urllib.parse.urlsplit(source)
    scheme = parsed.scheme.lower()
    # A one-letter scheme is a Windows drive ("C:\data.csv"), not a URL.
    if scheme in ("", "file") or len(scheme) == 1:
        fetched = _use_local_file(_local_path(source, parsed), source)
        _check_checksum(fetched, expected)
        return fetched
    _require_allowed_url(source)
    return _download_cached(source, Path(cache_dir), expected, timeout)


def load(path: Path) -> pd.DataFrame:
    """Read the CSV with pandas and validate its schema before any preprocessing.

    Returns the 16 columns in the workshop's order (so the feature order does not depend on the file's
    column order), with Critic_Score and Global_Sales numeric and User_Score as read ('tbd' kept).
    """
    path = Path(path)
    _require_readable_file(path, path.as_posix())
    head = _read_head(path)
    if not head.strip():
        raise _empty_file_error(path.as_posix())
    if _looks_like_html(head):
        raise _html_error(path.as_posix(), "starts with '<'")
    if head.startswith(b"PK\x03\x04") and path.suffix.lower() != ".zip":
        raise WorkshopError(
            f"The dataset {path} is a zip archive, not a CSV. Extract the CSV from it (the Kaggle download "
            f"contains Video_Games_Sales_as_at_22_Dec_2016.csv) and point {_SETTING} at the extracted file."
        )
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise _empty_file_error(path.as_posix()) from None
    except UnicodeDecodeError as exc:
        raise WorkshopError(
            f"The dataset {path} is not UTF-8 text (byte {exc.start} cannot be decoded), so it is not the "
            f"workshop's CSV. Point {_SETTING} at the comma-separated 'Video Game Sales with Ratings' file."
        ) from None
    except pd.errors.ParserError as exc:
        raise WorkshopError(
            f"The dataset {path} is not a well-formed CSV: pandas reports '{_first_line(exc)}'. A row has more "
            "fields than the header, often an unquoted comma in a name. Fix the file, or use the workshop's "
            f"copy ({KNOWN_SOURCE_URL})."
        ) from None
    return validate_frame(frame, origin=path.as_posix())


def validate_frame(frame: pd.DataFrame, origin: str = "the dataset") -> pd.DataFrame:
    """Check the columns and the scores of a raw frame; return it with the columns in the workshop's order."""
    require_columns(frame, origin)
    if frame.empty:
        raise WorkshopError(
            f"The dataset {origin} has a header but no data rows. The workshop's file has 16,719 rows; use a "
            f"complete copy ({KNOWN_SOURCE_URL})."
        )
    frame = frame.loc[:, list(EXPECTED_COLUMNS)]
    for column in NUMERIC_COLUMNS:
        if not is_numeric_dtype(frame[column]):
            _raise_bad_values(frame[column], origin, allowed=())
    if not is_numeric_dtype(frame["User_Score"]):
        _raise_bad_values(frame["User_Score"], origin, allowed=(USER_SCORE_PLACEHOLDER,))
    return frame


def require_columns(frame: pd.DataFrame, origin: str = "the dataset") -> None:
    """Refuse a frame whose columns are not exactly the workshop's 16, naming what is missing or extra."""
    present = [str(column) for column in frame.columns]
    missing = [column for column in EXPECTED_COLUMNS if column not in present]
    unexpected = [column for column in present if column not in EXPECTED_COLUMNS]
    if not missing and not unexpected:
        return
    if len(present) == 1 and ";" in present[0]:
        raise WorkshopError(
            f"The dataset {origin} is separated by semicolons; the workshop expects a comma-separated file "
            f"with the columns {', '.join(EXPECTED_COLUMNS)}. Use the workshop's copy ({KNOWN_SOURCE_URL})."
        )
    if len(missing) == len(EXPECTED_COLUMNS):
        raise WorkshopError(
            f"The dataset {origin} has none of the expected columns (found: {_names(present[:6])}), so it is "
            f"not the 'Video Game Sales with Ratings' CSV. Point {_SETTING} at that file ({KNOWN_SOURCE_URL})."
        )
    parts = []
    if missing:
        parts.append(f"it lacks the column{'s' if len(missing) > 1 else ''} {_names(missing)}")
    if unexpected:
        parts.append(f"it has the unexpected column{'s' if len(unexpected) > 1 else ''} {_names(unexpected)}")
    hint = " (renamed?)" if missing and unexpected else ""
    raise WorkshopError(
        f"The dataset {origin} does not have the workshop's schema: {' and '.join(parts)}{hint}. The expected "
        f"columns are {', '.join(EXPECTED_COLUMNS)}. Rename or remove columns so the header matches exactly."
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- local files -------------------------------------------------------------------------------------


def _local_path(source: str, parsed: urllib.parse.SplitResult) -> Path:
    if parsed.scheme.lower() != "file":
        return Path(source).expanduser()
    if parsed.netloc not in ("", "localhost"):
        raise WorkshopError(
            f"The dataset source {source} names the host '{parsed.netloc}'; file:// URLs can only point at this "
            "machine. Use file:///absolute/path.csv or a plain path."
        )
    return Path(urllib.request.url2pathname(parsed.path))


def _use_local_file(path: Path, source: str) -> FetchedDataset:
    _require_readable_file(path, source)
    path = path.resolve()
    head = _read_head(path)
    if not head.strip():
        raise _empty_file_error(source)
    if _looks_like_html(head):
        raise _html_error(source, "starts with '<'")
    return FetchedDataset(path=path, sha256=sha256_of(path), source=source, size=path.stat().st_size)


def _require_readable_file(path: Path, source: str) -> None:
    if path.is_dir():
        raise WorkshopError(
            f"The dataset source {source} is a directory, not a file. Point {_SETTING} at the CSV file inside "
            "it (e.g. Video_Games_Sales_as_at_22_Dec_2016.csv)."
        )
    if not path.is_file():
        raise WorkshopError(
            f"The dataset file {source} does not exist (looked for {path.absolute()}). Check the path in "
            f"{_SETTING}, or set it to the public URL {KNOWN_SOURCE_URL}."
        )


# --- downloads ---------------------------------------------------------------------------------------


def _require_allowed_url(url: str) -> None:
    """https only; plain http only to this machine, where nobody can tamper with it in transit."""
    parsed = urllib.parse.urlsplit(url)
    scheme = parsed.scheme.lower()
    if scheme == "https" and parsed.hostname:
        return
    if scheme == "http" and parsed.hostname and _is_loopback(parsed.hostname):
        return
    if scheme == "http":
        raise WorkshopError(
            f"The dataset URL {url} uses plain http, which anyone on the way can alter. Use its https address, "
            f"or download the file and set {_SETTING} to the local path."
        )
    raise WorkshopError(
        f"The dataset source {url} uses the '{scheme}' scheme, which is not supported. Use an https:// URL or "
        f"a local path (for S3, download the object first, e.g. `aws s3 cp`, and set {_SETTING} to the file)."
    )


def _proxy_handler(host: str) -> urllib.request.ProxyHandler:
    """The environment's proxies for a download from ``host``: none for loopback, and never the emulator's proxy
    for a host that is not AWS's (it would refuse it: loopback.EMULATOR_PROXY_ENV)."""
    if _is_loopback(host):
        return urllib.request.ProxyHandler({})
    emulator_proxy = os.environ.get(EMULATOR_PROXY_ENV, "")
    if emulator_proxy and not host.lower().endswith(".amazonaws.com"):
        proxies = urllib.request.getproxies()
        return urllib.request.ProxyHandler({scheme: url for scheme, url in proxies.items() if url != emulator_proxy})
    return urllib.request.ProxyHandler(None)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() == "localhost"


class _CheckedRedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to addresses that fetch() would accept itself (no https -> http downgrade)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        _require_allowed_url(urllib.parse.urljoin(req.full_url, newurl))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _download_cached(url: str, cache_dir: Path, expected: str | None, timeout: float) -> FetchedDataset:
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / _cache_name(url)
    record = target.with_name(target.name + ".json")
    cached = _verified_cache_entry(url, target, record, expected)
    if cached is not None:
        return cached
    sha256, size = _download(url, target, timeout)
    fetched = FetchedDataset(path=target.resolve(), sha256=sha256, source=url, size=size)
    try:
        _check_checksum(fetched, expected)
    except WorkshopError:
        target.unlink(missing_ok=True)
        raise
    atomic_write_bytes(
        record,
        json.dumps(
            {
                "source": url,
                "sha256": sha256,
                "size": size,
                "downloaded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            },
            indent=2,
        ).encode(),
    )
    return fetched


def _cache_name(url: str) -> str:
    stem = Path(urllib.parse.urlsplit(url).path).name or "dataset.csv"
    safe = "".join(char if char.isalnum() or char in "._-" else "_" for char in stem)[:80]
    return f"{hashlib.sha256(url.encode()).hexdigest()[:16]}-{safe}"


def _verified_cache_entry(url: str, target: Path, record: Path, expected: str | None) -> FetchedDataset | None:
    """The cached download if it is intact; None (and the entry removed) if it must be fetched again."""
    if not target.is_file():
        return None
    try:
        recorded = json.loads(record.read_text())["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        recorded = None
    actual = sha256_of(target)
    if recorded == actual and (expected is None or actual == expected):
        return FetchedDataset(path=target.resolve(), sha256=actual, source=url, size=target.stat().st_size)
    target.unlink(missing_ok=True)
    record.unlink(missing_ok=True)
    return None


def _download(url: str, target: Path, timeout: float) -> tuple[str, int]:
    """Stream ``url`` into ``target`` atomically; return its sha256 and size."""
    host = urllib.parse.urlsplit(url).hostname or ""
    opener = urllib.request.build_opener(_proxy_handler(host), _CheckedRedirectHandler)
    request = urllib.request.Request(url, headers={"User-Agent": "vgsales-workshop", "Accept": "text/csv, */*"})
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as out, opener.open(request, timeout=timeout) as response:
            content_type = response.headers.get("Content-Type", "")
            if "html" in content_type.lower():
                raise _html_error(url, f"the server sent Content-Type '{content_type}'")
            digest = hashlib.sha256()
            size = 0
            first = True
            while chunk := response.read(_CHUNK):
                if first and _looks_like_html(chunk):
                    raise _html_error(url, "its content starts with '<'")
                first = False
                size += len(chunk)
                if size > MAX_DOWNLOAD_BYTES:
                    raise WorkshopError(
                        f"The dataset at {url} is larger than {MAX_DOWNLOAD_BYTES // (1024 * 1024)} MB, so it is "
                        f"not the workshop's 1.6 MB CSV. Check {_SETTING}."
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise _empty_file_error(url)
        os.replace(partial, target)
        return digest.hexdigest(), size
    except urllib.error.HTTPError as exc:
        raise _http_status_error(url, exc.code, exc.reason) from None
    except urllib.error.URLError as exc:
        raise _network_error(url, exc.reason, timeout) from None
    except (TimeoutError, ConnectionError, http.client.HTTPException) as exc:
        raise _network_error(url, exc, timeout) from None
    finally:
        Path(partial).unlink(missing_ok=True)


# --- checks and messages ------------------------------------------------------------------------------


def _check_checksum(fetched: FetchedDataset, expected: str | None) -> None:
    if expected is None or fetched.sha256 == expected:
        return
    # A download that does not match is discarded (see _download_cached): the next run fetches it afresh.
    again = ""
    if _is_url(fetched.source):
        again = " (the download was discarded: running the task again downloads it afresh)"
    if expected != KNOWN_SHA256:
        raise WorkshopError(
            f"Checksum mismatch for the dataset from {fetched.source}: it has {fetched.size:,} bytes and sha256 "
            f"{fetched.sha256}, but {_SHA_SETTING} requires {expected}{again}. Either the file changed since that "
            f"sha256 was taken or {_SETTING} names another file. Nothing was uploaded. If this is the file you mean, "
            f"set {_SHA_VARIABLE} to its sha256 (or to any, to accept any file); else point the source at the "
            "right one."
        )
    if fetched.source in KNOWN_CHECKSUMS:
        # The workshop's own address: whatever data_sha256 says, a file that differs is a broken download.
        instead = (
            "That address serves the workshop's file, so this copy is a broken download whatever "
            f"{_SHA_SETTING} says: run the task again."
        )
    else:
        instead = (
            f"Get the real file from {KNOWN_SOURCE_URL} (the default of workshop.data_source). To use another "
            f"dataset with the same columns on purpose, set {_SHA_VARIABLE}=any (or to that file's sha256)."
        )
    if fetched.size < KNOWN_SIZE:
        cause = "It is shorter, so it is most likely a truncated copy: a download or copy that was cut off."
    elif fetched.size == KNOWN_SIZE:
        cause = "It has the same size, so its content was changed: edited, or saved again by a spreadsheet."
    else:
        cause = "It is longer: a changed copy (rows added, or saved again by a spreadsheet), or another file."
    raise WorkshopError(
        f"Checksum mismatch: the dataset from {fetched.source} is not the workshop's file{again}. It has "
        f"{fetched.size:,} bytes and sha256 {fetched.sha256}; the workshop's file has {KNOWN_SIZE:,} bytes and "
        f"sha256 {KNOWN_SHA256}. {cause} Nothing was uploaded: a partial or changed file trains without any error "
        f"and gives other numbers than the workshop's. {instead}"
    )


def _is_url(source: str) -> bool:
    scheme = urllib.parse.urlsplit(source).scheme.lower()
    return len(scheme) > 1 and scheme != "file"


def _raise_bad_values(column: pd.Series, origin: str, allowed: tuple[str, ...]) -> None:
    as_text = column.astype("string").str.strip()
    numeric = pd.to_numeric(as_text, errors="coerce")
    bad = column.notna() & numeric.isna() & ~as_text.isin(allowed) & (as_text != "")
    if not bad.any():
        return
    row = bad.idxmax()
    position = int(bad.to_numpy().nonzero()[0][0])
    also = f" or '{allowed[0]}'" if allowed else ""
    raise WorkshopError(
        f"The column {column.name} of the dataset {origin} must hold numbers{also}, but {int(bad.sum()):,} "
        f"value(s) are not, e.g. {column[row]!r} on line {position + 2} (the header is line 1). Fix or blank "
        "those values; rows with blank scores are dropped by the preprocessing."
    )


def _read_head(path: Path, size: int = 512) -> bytes:
    with open(path, "rb") as stream:
        return stream.read(size)


def _looks_like_html(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _html_error(source: str, evidence: str) -> WorkshopError:
    return WorkshopError(
        f"The dataset source {source} gave an HTML page instead of a CSV ({evidence}). That is usually a login, "
        f"error or preview page: use the raw file's address (for GitHub, the raw.githubusercontent.com URL) or "
        f"a local path in {_SETTING}."
    )


def _empty_file_error(source: str) -> WorkshopError:
    return WorkshopError(
        f"The dataset {source} is empty (0 bytes or only blank lines). The workshop's CSV has 1,618,040 bytes; "
        f"the download or copy was probably interrupted. Fetch it again or point {_SETTING} at a complete copy."
    )


def _http_status_error(url: str, status: int, reason: object) -> WorkshopError:
    if status == 404:
        advice = "There is no file at that address: check the URL in"
    elif status in (401, 403):
        advice = "The server refuses access; the file must be public. Check"
    else:
        advice = "The server failed; try again later, or set"
    return WorkshopError(
        f"Downloading the dataset from {url} failed with HTTP {status} {reason}. {advice} {_SETTING} "
        "(a local path to the CSV also works)."
    )


def _network_error(url: str, reason: object, timeout: float) -> WorkshopError:
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        what = f"no answer within {timeout:g} s"
    else:
        what = f"network error: {reason}"
    return WorkshopError(
        f"Could not download the dataset from {url} ({what}). Check the network connection and the URL, or "
        f"download the file elsewhere and set {_SETTING} to its local path."
    )


def _names(columns: list[str]) -> str:
    return ", ".join(repr(column) for column in columns)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write under a temporary name and rename, so readers never see a half-written file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
