"""How SageMaker's List operations order, filter and page what they answer, for the ones the emulator answers itself.

SageMaker documents each List operation's default SortBy and SortOrder (botocore's sagemaker service model, the
members' documentation: "The default is Descending."), and they differ from one operation to the next: training
jobs oldest first, endpoints and transform jobs newest first, tuning jobs by name. moto (5.x) applies SortBy and
SortOrder only when a request names them, oldest first otherwise, and ignores them altogether for some operations
(ListModels, the experiments' lists), so a client that takes the first endpoint listed as the newest got the oldest,
with no error. Some document a page of 10 where moto's held 100: code that read one page of endpoints and worked
here missed the eleventh on AWS. SageMakerService reads a missing SortBy, SortOrder or MaxResults from DEFAULTS;
tests/emulator/test_listing.py holds the table to botocore's documentation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from moto.core.exceptions import JsonRESTError

from .shapes import Document

# Only what the documentation states: where it names no default order (ListNotebookInstances,
# ListNotebookInstanceLifecycleConfigs), a request without SortOrder is answered Ascending, as moto's lists are; where
# it names no page size, a request without MaxResults gets moto's page (100), or all of a list the emulator sorts here.
DEFAULTS: dict[str, dict[str, str | int]] = {
    "ListTrainingJobs": {"SortBy": "CreationTime", "SortOrder": "Ascending"},
    "ListTransformJobs": {"SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": 10},
    "ListModels": {"SortBy": "CreationTime", "SortOrder": "Descending"},
    "ListEndpoints": {"SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": 10},
    "ListEndpointConfigs": {"SortBy": "CreationTime", "SortOrder": "Descending"},
    "ListHyperParameterTuningJobs": {"SortBy": "Name", "SortOrder": "Ascending", "MaxResults": 10},
    "ListTrainingJobsForHyperParameterTuningJob": {"SortBy": "Name", "SortOrder": "Ascending", "MaxResults": 10},
    "ListNotebookInstances": {"SortBy": "Name"},
    "ListNotebookInstanceLifecycleConfigs": {"SortBy": "CreationTime"},
    "ListExperiments": {"SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": 10},
    "ListTrials": {"SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": 10},
    "ListTrialComponents": {"SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": 10},
    "ListModelPackageGroups": {"SortBy": "CreationTime", "SortOrder": "Ascending"},
    "ListModelPackages": {"SortBy": "CreationTime", "SortOrder": "Ascending"},
}
DEFAULTED = ("SortBy", "SortOrder", "MaxResults")


def sorted_page(found: list[Document], key: str, fields: Mapping[str, str], param: Callable[[str], object]) -> Document:
    """``found`` in the order SortBy and SortOrder ask for (``fields``: SortBy's values and the summary field each
    sorts by; ties by name), cut to the page MaxResults and NextToken ask for; the answer with its NextToken when
    more follow. ``param`` reads the request's parameters, DEFAULTS filled in."""
    sort_by = param("SortBy")
    if sort_by not in fields:
        raise JsonRESTError("ValidationException", f"1 validation error detected: Value '{sort_by}' at 'sortBy' "
                            f"failed to satisfy constraint: Member must satisfy enum value set: {sorted(fields)}")  # fmt: skip
    order = param("SortOrder") or "Ascending"
    if order not in ("Ascending", "Descending"):
        raise JsonRESTError("ValidationException", f"1 validation error detected: Value '{order}' at 'sortOrder' "
                            "failed to satisfy constraint: Member must satisfy enum value set: [Ascending, Descending]")  # fmt: skip
    name = fields["Name"]
    found = sorted(found, key=lambda item: (_sortable(item[fields[str(sort_by)]]), item[name]),
                   reverse=order == "Descending")  # fmt: skip
    asked = param("MaxResults")
    size = None if asked is None else int(str(asked))  # an int, from the JSON body or DEFAULTS
    if size is not None and not 1 <= size <= 100:
        bound = "greater than or equal to 1" if size < 1 else "less than or equal to 100"
        raise JsonRESTError("ValidationException", f"1 validation error detected: Value '{size}' at 'maxResults' "
                            f"failed to satisfy constraint: Member must have value {bound}")  # fmt: skip
    start = _page_start(param("NextToken"), len(found))  # type: ignore[arg-type]
    end = len(found) if not size else start + size
    result: Document = {key: found[start:end]}
    if end < len(found):
        result["NextToken"] = str(end)
    return result


def created_between(found: list[Document], after: object, before: object,
                    field: str = "CreationTime") -> list[Document]:  # fmt: skip
    """The summaries whose ``field`` is after ``after`` and before ``before`` (either may be None: no bound)."""
    if after is not None:
        found = [item for item in found if instant(item[field]) > instant(after)]
    if before is not None:
        found = [item for item in found if instant(item[field]) < instant(before)]
    return found


def instant(value: object) -> float:
    """A time as SageMaker's JSON carries it (epoch seconds, or an ISO 8601 string from moto's records)."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    text = str(value)
    try:
        return float(text)
    except ValueError:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _sortable(value: object) -> object:
    """Times compare as instants, whichever form they come in; anything else as itself."""
    if isinstance(value, datetime):
        return value.timestamp()
    return value


def _page_start(token: str | None, total: int) -> int:
    """Where a NextToken this response gave continues; SageMaker's ValidationException for any other."""
    if not token:
        return 0
    if not token.isdigit() or int(token) > total:
        raise JsonRESTError("ValidationException", f'Invalid pagination token because "{token}".')
    return int(token)
