"""SageMaker's List operations order what they answer as SageMaker documents (vgsales.emulator.listing): each
operation's own default SortBy, SortOrder and page size when a request names none, and the sort, filters and pages
it asks for.

Items are created in the order c, a, b, so that oldest first, newest first and by name are three different answers.
Near misses: an experiment's neighbour with the same prefix, a trial component of another experiment's trial, a
SortBy that belongs to another List operation, a documented default spelled in capitals.
"""

from __future__ import annotations

import datetime
import re
import time
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.session import get_session

from vgsales.emulator import catalogue, listing

CREATED = "cab"
# Bounds a day away: requests carry whole seconds (botocore serialises a JSON timestamp as integer epoch seconds),
# so a bound at an item's own creation time cannot tell items made within the same second apart.
A_DAY_AGO = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)


def documented_defaults(operation: str) -> dict[str, str | int]:
    """What botocore's sagemaker model says an operation defaults SortBy, SortOrder and MaxResults to ("The default
    is Descending.", "The default value is CreationTime.", "This value defaults to 10."), an enum's value spelled as
    the enum spells it."""
    shape = get_session().get_service_model("sagemaker").operation_model(operation).input_shape
    found: dict[str, str | int] = {}
    for parameter in listing.DEFAULTED:
        member = shape.members.get(parameter) if shape is not None else None
        text = re.sub("<[^>]+>", "", member.documentation or "") if member is not None else ""
        said = re.search(r"(?:[Tt]he default (?:value )?is|defaults to) (\w+)", text)
        if said and parameter == "MaxResults":
            found[parameter] = int(said.group(1))
        elif said:
            (value,) = [value for value in member.enum if value.lower() == said.group(1).lower()]
            found[parameter] = value
    return found


def test_the_defaults_are_the_ones_sagemaker_documents_for_every_list_the_emulator_answers():
    answered = sorted(name for name in catalogue.EXECUTED | catalogue.BOOKKEEPING_OPERATIONS if name.startswith("List"))
    documented = {name: documented_defaults(name) for name in answered}
    assert listing.DEFAULTS == {name: defaults for name, defaults in documented.items() if defaults}
    assert documented["ListEndpoints"] == {"SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": 10}
    assert documented["ListTrainingJobs"] == {"SortBy": "CreationTime", "SortOrder": "Ascending"}  # no page size
    assert documented["ListNotebookInstances"] == {"SortBy": "Name"}  # no order documented: none assumed


def test_a_capitalised_default_is_read_in_the_enums_spelling():
    assert documented_defaults("ListImages") == {"SortBy": "CREATION_TIME", "SortOrder": "DESCENDING", "MaxResults": 10}


def test_a_time_bound_excludes_what_was_created_at_it():
    """"Created after" and "created before" are strict, in any of the forms a time comes in (a boundary that whole-
    second requests cannot reach through the API)."""
    at = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
    second = datetime.timedelta(seconds=1)
    found = [{"CreationTime": at - second}, {"CreationTime": at.isoformat()}, {"CreationTime": (at + second).timestamp()}]
    assert listing.created_between(found, at, None) == found[2:]
    assert listing.created_between(found, None, at.timestamp()) == found[:1]
    assert listing.created_between(found, at - second, at + second) == found[1:2]


@pytest.fixture
def sagemaker(aws_env):
    return boto3.client("sagemaker")


def create_in_order(create, kind: str) -> list[str]:
    """Three items named <stem>-c, -a, -b, created in that order a moment apart; their names."""
    stem = f"{kind}-{uuid.uuid4().hex[:8]}"
    names = []
    for letter in CREATED:
        names.append(f"{stem}-{letter}")
        create(names[-1])
        time.sleep(0.01)  # distinct creation times
    return names


def oldest_first(names: list[str]) -> list[str]:
    return names


def newest_first(names: list[str]) -> list[str]:
    return names[::-1]


def test_endpoint_configs_newest_first_by_default(sagemaker, make_role):
    role = make_role("listing", [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}])
    model = f"listing-model-{uuid.uuid4().hex[:8]}"
    sagemaker.create_model(
        ModelName=model,
        ExecutionRoleArn=role,
        PrimaryContainer={"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"},
    )
    variant = [
        {"VariantName": "AllTraffic", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
    ]
    names = create_in_order(
        lambda name: sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=variant),
        "listing-config",
    )

    def listed(**request) -> list[str]:
        stem = names[0][:-2]
        return [
            item["EndpointConfigName"]
            for item in sagemaker.list_endpoint_configs(NameContains=stem, **request)["EndpointConfigs"]
        ]

    assert listed() == newest_first(names)
    assert listed(SortOrder="Ascending") == oldest_first(names)
    assert listed(SortBy="Name") == sorted(names, reverse=True)  # Descending applies to a SortBy given alone


def test_lifecycle_configurations_oldest_first_filtered_and_paged(sagemaker):
    names = create_in_order(lambda name: sagemaker.create_notebook_instance_lifecycle_config(
        NotebookInstanceLifecycleConfigName=name), "listing-lifecycle")  # fmt: skip
    stem = names[0][:-2]

    def listed(**request) -> list[str]:
        return [
            item["NotebookInstanceLifecycleConfigName"]
            for item in sagemaker.list_notebook_instance_lifecycle_configs(NameContains=stem, **request)[
                "NotebookInstanceLifecycleConfigs"
            ]
        ]

    assert listed() == oldest_first(names), "CreationTime by default, as documented (the emulator sorted by name)"
    assert listed(SortBy="Name") == sorted(names)
    assert listed(SortBy="LastModifiedTime", SortOrder="Descending") == newest_first(names)
    assert listed(CreationTimeAfter=A_DAY_AGO) == names and listed(CreationTimeBefore=A_DAY_AGO) == []
    assert listed(LastModifiedTimeBefore=A_DAY_AGO) == []
    page = sagemaker.list_notebook_instance_lifecycle_configs(NameContains=stem, MaxResults=2)
    assert len(page["NotebookInstanceLifecycleConfigs"]) == 2 and page["NextToken"]
    rest = sagemaker.list_notebook_instance_lifecycle_configs(NameContains=stem, NextToken=page["NextToken"])
    assert [item["NotebookInstanceLifecycleConfigName"] for item in rest["NotebookInstanceLifecycleConfigs"]] == names[
        2:
    ]
    with pytest.raises(ClientError, match="sortBy"):
        sagemaker.list_notebook_instance_lifecycle_configs(
            SortBy="Status"
        )  # ListNotebookInstances' key, not this one's


def test_experiments_trials_and_components_are_sorted_and_filtered_as_asked(sagemaker):
    experiments = create_in_order(lambda name: sagemaker.create_experiment(ExperimentName=name), "listing-experiment")
    stem = experiments[0][:-2]
    sagemaker.create_experiment(ExperimentName=f"{stem}-neighbour")  # a neighbour with the same prefix

    def mine(key: str, found: dict, prefix: str) -> list[str]:
        return [item[key] for item in found if item[key].startswith(prefix)]

    every = sagemaker.list_experiments(MaxResults=100)["ExperimentSummaries"]
    assert mine("ExperimentName", every, stem) == [f"{stem}-neighbour", *newest_first(experiments)], "newest first"
    ascending = sagemaker.list_experiments(SortBy="Name", SortOrder="Ascending", MaxResults=100)["ExperimentSummaries"]
    assert mine("ExperimentName", ascending, stem) == sorted([*experiments, f"{stem}-neighbour"])
    assert (
        mine("ExperimentName", sagemaker.list_experiments(CreatedBefore=A_DAY_AGO)["ExperimentSummaries"], stem) == []
    )
    after = sagemaker.list_experiments(CreatedAfter=A_DAY_AGO, SortOrder="Ascending", MaxResults=100)[
        "ExperimentSummaries"
    ]
    assert mine("ExperimentName", after, stem) == [*experiments, f"{stem}-neighbour"]

    trials = create_in_order(
        lambda name: sagemaker.create_trial(TrialName=name, ExperimentName=experiments[0]), "listing-trial"
    )
    other_trial = f"{trials[0][:-2]}-other"
    sagemaker.create_trial(TrialName=other_trial, ExperimentName=experiments[1])
    assert [
        t["TrialName"] for t in sagemaker.list_trials(ExperimentName=experiments[0])["TrialSummaries"]
    ] == newest_first(trials)

    components = create_in_order(
        lambda name: sagemaker.create_trial_component(TrialComponentName=name), "listing-component"
    )
    for component in components:
        sagemaker.associate_trial_component(TrialComponentName=component, TrialName=trials[0])
    elsewhere = f"{components[0][:-2]}-elsewhere"
    sagemaker.create_trial_component(TrialComponentName=elsewhere)
    sagemaker.associate_trial_component(TrialComponentName=elsewhere, TrialName=other_trial)

    def component_names(**request) -> list[str]:
        return [c["TrialComponentName"] for c in sagemaker.list_trial_components(**request)["TrialComponentSummaries"]]

    assert component_names(ExperimentName=experiments[0]) == newest_first(components)
    assert component_names(ExperimentName=experiments[1]) == [elsewhere]
    assert component_names(TrialName=trials[0], SortBy="Name", SortOrder="Ascending") == sorted(components)
    assert component_names(SourceArn="arn:aws:sagemaker:us-east-1:123456789012:training-job/none") == []
    with pytest.raises(ClientError, match="ExperimentName and TrialName"):  # documented: one filter at most
        component_names(ExperimentName=experiments[0], TrialName=trials[0])


def test_the_experiments_lists_answer_ten_at_a_time_by_default(sagemaker):
    """MaxResults' documented default for the three (botocore's sagemaker model: "The default value is 10.")."""
    stem = f"listing-page-{uuid.uuid4().hex[:8]}"
    for index in range(11):
        sagemaker.create_trial_component(TrialComponentName=f"{stem}-{index:02d}")
    first = sagemaker.list_trial_components(SortBy="Name", SortOrder="Descending")
    assert len(first["TrialComponentSummaries"]) == 10 and first["NextToken"]
