"""The console's parts that need no AWS: its charts, the round lines it reads curves from, its two languages, and
the token that locks it (vgsales.console). What it shows of a stack is tested in test_console_stack.py.

Near misses: a flat series and a single point (no division by zero); a line that looks like a round but is not;
a token one character off, a cookie of another console (another port) and a cookie with the token itself."""

from __future__ import annotations

import re

import pytest

from vgsales.console import charts, reads, text
from vgsales.console.app import create_app
from vgsales.context import Context

TOKEN = "t0ken-for-the-test-0123456789abcdefghijklmnop"
PORT = 45678


def points_of(svg: str) -> list[tuple[str, float, float]]:
    return [(series, float(x), float(y))
            for series, x, y in re.findall(r'data-series="([^"]*)" data-x="([^"]*)" data-y="([^"]*)"', svg)]  # fmt: skip


def test_a_chart_has_a_point_per_value_and_scales_into_its_box():
    train = [(number, 0.8 + number / 1000) for number in range(100)]
    validation = [(number, 0.7 + number / 2000) for number in range(100)]
    svg = str(charts.line_chart({"train:auc": train, "validation:auc": validation}, x_label="round", empty="none"))
    found = points_of(svg)
    assert [point for point in found if point[0] == "train:auc"] == [("train:auc", x, pytest.approx(y)) for x, y in train]
    assert len([point for point in found if point[0] == "validation:auc"]) == 100
    positions = [(float(cx), float(cy)) for cx, cy in re.findall(r'cx="([\d.]+)" cy="([\d.]+)"', svg)]
    assert all(charts.LEFT <= cx <= charts.WIDTH - charts.RIGHT and charts.TOP <= cy <= charts.HEIGHT - charts.BOTTOM
               for cx, cy in positions)  # fmt: skip
    # the highest value is drawn highest (SVG's y grows downwards)
    first, last = positions[0], positions[99]
    assert last[1] < first[1]


def test_whole_numbers_on_the_x_axis_are_labelled_once_each():
    svg = str(charts.line_chart({"objective": [(1, 0.84), (2, 0.83), (3, 0.85)]}, x_label="jobs", empty="",
                                x_format=lambda x: f"{x:.0f}"))  # fmt: skip
    labels = re.findall(r'<text class="tick" x="[\d.]+" y="\d+" text-anchor="middle">([^<]*)</text>', svg)
    assert labels == ["1", "2", "3"]


@pytest.mark.parametrize("series", [[(0, 0.5), (1, 0.5), (2, 0.5)], [(7, 0.0)]])
def test_a_flat_line_or_a_single_point_still_draws(series):
    assert len(points_of(str(charts.line_chart({"m": series}, x_label="x", empty="none")))) == len(series)


def test_an_empty_chart_says_so_and_names_are_escaped():
    assert "nothing yet" in str(charts.line_chart({"m": []}, x_label="x", empty="nothing yet"))
    svg = str(charts.line_chart({"<script>": [(1, 1.0)]}, x_label="x", empty=""))
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_round_lines_give_each_metric_per_round_and_other_lines_nothing():
    assert list(reads.round_metrics("[12]#011train-auc:0.87512#011validation-auc:0.85201")) == [
        ("train-auc", (12, 0.87512)), ("validation-auc", (12, 0.85201))]
    assert list(reads.round_metrics("[2026-12-06:10:00:00:INFO] Running XGBoost")) == []
    assert list(reads.round_metrics("[3]#011train-error:nan-ish")) == []
    assert list(reads.round_metrics("[3] train-auc:0.5")) == []  # a tab, as CloudWatch shows it, separates a round
    # XGBoost writes nan or inf for a metric it cannot compute: no point, the round's other metrics stay
    assert list(reads.round_metrics("[4]#011train-auc:nan#011validation-auc:0.8#011train-logloss:inf")) == [
        ("validation-auc", (4, 0.8))]


def test_both_languages_have_every_word_and_chinese_browsers_get_the_workshops_chinese():
    assert set(text.TEXT["zh-TW"]) == set(text.TEXT["en"])
    assert text.choose(None, "zh-CN,zh;q=0.9") == "zh-TW"
    assert text.choose(None, "en-US,en;q=0.8") == "en"
    assert text.choose(None, "fr-FR") == "en"
    assert text.choose("zh-TW", "en-US") == "zh-TW"
    assert text.choose("de", "zh-TW") == "zh-TW"  # a language it does not speak is not taken


@pytest.fixture
def client(make_settings, tmp_path):
    """The console's app on a context whose target is never reached: the token decides before any AWS call."""
    app = create_app(Context.of(make_settings(tmp_path)), TOKEN, PORT)
    return app.test_client()


def test_the_token_signs_in_once_and_a_cookie_keeps_the_session(client):
    signed = client.get(f"/evaluation?token={TOKEN}&lang=zh-TW")
    assert signed.status_code == 302 and signed.headers["Location"] == "/evaluation?lang=zh-TW"  # no token left
    cookie = signed.headers["Set-Cookie"]
    assert cookie.startswith(f"vgsales_console_{PORT}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert TOKEN not in cookie
    assert client.get("/static/console.css").status_code == 200


@pytest.mark.parametrize("url", ["/", "/evaluation", "/static/console.js", f"/?token={TOKEN[:-1]}x", "/?token="])
def test_without_the_token_nothing_is_served(client, url):
    answer = client.get(url)
    assert answer.status_code == 403 and "invoke console" in answer.get_data(as_text=True)
    assert "Set-Cookie" not in answer.headers


def test_a_cookie_of_another_console_or_holding_the_token_signs_nobody_in(client, make_settings, tmp_path):
    other = create_app(Context.of(make_settings(tmp_path)), TOKEN, PORT + 1).test_client()
    signed = other.get(f"/?token={TOKEN}")
    name, value = signed.headers["Set-Cookie"].split(";", 1)[0].split("=", 1)
    client.set_cookie(name, value)
    assert client.get("/static/console.css").status_code == 403  # another port's cookie
    client.set_cookie(f"vgsales_console_{PORT}", TOKEN)
    assert client.get("/static/console.css").status_code == 403  # the token is not the session


def test_pages_forbid_inline_scripts_framing_and_caching(client):
    client.get(f"/?token={TOKEN}")
    answer = client.get("/static/console.css")
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Content-Security-Policy"] == (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'")


def test_the_sign_in_redirect_stays_on_the_console(client):
    # a request line "GET //evil.example/?token=… HTTP/1.1": the path itself starts with two slashes
    answer = client.get("/", query_string={"token": TOKEN}, environ_overrides={"PATH_INFO": "//evil.example/"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/evil.example/"


@pytest.mark.parametrize("headers, allowed", [
    ({"Sec-Fetch-Site": "same-origin"}, True),
    ({"Sec-Fetch-Site": "same-site"}, False),  # another port of 127.0.0.1: a JupyterLab's page, say
    ({"Sec-Fetch-Site": "cross-site"}, False),
    ({"Origin": f"http://127.0.0.1:{PORT}"}, True),  # a browser that sends no Sec-Fetch-Site
    ({"Origin": f"http://127.0.0.1:{PORT + 1}"}, False),
    ({}, False),
])  # fmt: skip
def test_a_post_must_come_from_the_consoles_own_pages(client, headers, allowed):
    client.get(f"/?token={TOKEN}")
    answer = client.post("/notebook", headers=headers)
    # let through, it reaches the stack (there is none here, so the page says so); refused, it reaches nothing
    assert (answer.status_code != 403) is allowed
    if allowed:
        assert "invoke setup" in answer.get_data(as_text=True)


def test_a_language_the_console_does_not_speak_keeps_the_one_chosen(client):
    client.get(f"/?token={TOKEN}")
    client.get("/evaluation?lang=zh-TW")
    page = client.get("/evaluation?lang=de", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert "評估模型" in page


@pytest.mark.parametrize("target, linked", [("aws", True), ("local", False)])
def test_on_aws_a_page_links_the_same_resource_in_the_aws_console(make_settings, tmp_path, monkeypatch, target, linked):
    described = {"ModelName": "vg-model-1", "ModelArn": "arn:aws:sagemaker:eu-west-1:123456789012:model/vg-model-1",
                 "PrimaryContainer": {"Image": "img", "ModelDataUrl": "s3://b/m.tar.gz"}, "ExecutionRoleArn": "arn:role"}  # fmt: skip
    monkeypatch.setattr(reads, "model", lambda ctx, name: described)
    ctx = Context.of(make_settings(tmp_path, target=target, region="eu-west-1"))
    client = create_app(ctx, TOKEN, PORT).test_client()
    client.get(f"/?token={TOKEN}")
    page = client.get("/models/vg-model-1?lang=en").get_data(as_text=True)
    link = "https://eu-west-1.console.aws.amazon.com/sagemaker/home?region=eu-west-1#/models/vg-model-1"
    assert (link in page) is linked and "s3://b/m.tar.gz" in page


class _FakeSageMaker:
    """ListModels and ListTags as SageMaker answers them, over named models and their stack tags: enough for the
    console's list pages. ``failing`` names a model whose ListTags raises that error code."""

    def __init__(self, stacks: dict[str, str], failing: dict[str, str] | None = None) -> None:
        self.names = list(stacks)  # newest first, as the console asks
        self.stacks, self.failing, self.sizes = stacks, failing or {}, []

    def list_models(self, MaxResults, SortBy, SortOrder, NextToken=None):  # noqa: N803 - the API's names
        assert (SortBy, SortOrder) == ("CreationTime", "Descending") and 1 <= MaxResults <= 100
        self.sizes.append(MaxResults)
        start = int(NextToken or 0)
        page = self.names[start:start + MaxResults]
        answer = {"Models": [{"ModelName": name, "ModelArn": f"arn:model/{name}"} for name in page]}
        if start + MaxResults < len(self.names):
            answer["NextToken"] = str(start + MaxResults)
        return answer

    def list_tags(self, ResourceArn):  # noqa: N803
        from botocore.exceptions import ClientError

        name = ResourceArn.rsplit("/", 1)[1]
        if name in self.failing:
            raise ClientError({"Error": {"Code": self.failing[name], "Message": "Rate exceeded"}}, "ListTags")
        return {"Tags": [{"Key": "vgsales:stack", "Value": self.stacks[name]}]}


class _FakeContext:
    def __init__(self, settings, sagemaker: _FakeSageMaker) -> None:
        self.settings, self._sagemaker = settings, sagemaker
        self.aws = self

    def client(self, name: str):
        assert name == "sagemaker"
        return self._sagemaker


def test_a_list_page_holds_at_most_50_of_the_stacks_rows_and_goes_on_where_it_stopped(make_settings, tmp_path):
    settings = make_settings(tmp_path)
    ours, neighbour = settings.name_prefix, f"{settings.name_prefix}-ci"
    stacks = {f"m{number:03d}": ours if number % 3 else neighbour for number in range(200)}  # 2 of 3 ours
    fake = _FakeSageMaker(stacks)
    first = reads.listing(_FakeContext(settings, fake), "models")
    assert len(first.rows) == reads.PAGE_SIZE and all(stacks[row["Name"]] == ours for row in first.rows)
    second = reads.listing(_FakeContext(settings, fake), "models", first.next_token)
    shown = [row["Name"] for row in first.rows + second.rows]
    assert shown == [name for name in stacks if stacks[name] == ours][: len(shown)], "none skipped, none twice"
    assert all(size <= reads.PAGE_SIZE for size in fake.sizes)


def test_a_list_page_says_so_when_tags_cannot_be_read_and_skips_only_what_is_gone(make_settings, tmp_path):
    from botocore.exceptions import ClientError

    settings = make_settings(tmp_path)
    stacks = {"a": settings.name_prefix, "b": settings.name_prefix}
    with pytest.raises(ClientError, match="Rate exceeded"):
        reads.listing(_FakeContext(settings, _FakeSageMaker(stacks, {"b": "ThrottlingException"})), "models")
    gone = _FakeSageMaker(stacks, {"b": "ResourceNotFound"})
    assert [row["Name"] for row in reads.listing(_FakeContext(settings, gone), "models").rows] == ["a"]
