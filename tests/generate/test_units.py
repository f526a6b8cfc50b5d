"""A service's files as its frame and a unit per SLO (obs.generate.units): each unit reads its SLO alone, the
files composed are those dumped whole, and services whose SLOs are drawn one by one share shapes of SLO."""
from __future__ import annotations

import random

import pytest

from obs import generate
from obs.emit import yaml_read
from obs.generate import kubernetes as kube
from obs.generate import rule_tests, rulers, service_makers, stampings, units
from obs.generate.common import forget, made, yaml
from obs.generate.kubernetes import rules as kube_rules
from obs.generate.slo import rules
from obs.generate.units import Part
from obs.model import conventions as c
from obs.project import load_model, load_text
from tests.generate.test_stamp import assert_stamped_equals_full
from tests.support.paths import REPO

# Each service's SLOs drawn one by one: two SLOs of one kind of SLI or not (the suites read that), grouped or not,
# with texts or not, a raw SLI, the Thanos and Cortex rulers.
HEAD = """version: obs/v1
project: shop
rulers: [thanos, cortex]
services:
"""
TAIL = """alerting:
  receivers:
    - {name: pager, pagerduty: {routing_key: {env: PD_KEY}}}
  routes:
    - {match: {severity: page}, receiver: pager}
"""


def drawn(count: int, seed: int = 7) -> str:
    draw = random.Random(seed)
    out = [HEAD]
    for i in range(count):
        name = f"svc-{i:03d}"
        slos = [f"      - {{name: availability, objective: {draw.choice([99, 99.5, 99.9])}, window: "
                f"{draw.choice(['7d', '30d'])}, sli: {{availability: {{}}}}}}"]
        if draw.random() < 0.7:
            group = ", group_by: [http_route]" if draw.random() < 0.3 else ""
            slos.append(f"      - {{name: latency, objective: 95, sli: {{latency: {{threshold: "
                        f"{draw.choice(['200ms', '500ms', '1s'])}}}}}{group}}}")
        if draw.random() < 0.4:   # a second SLO of the kind of the first
            slos.append("      - {name: errors-strict, objective: 99.99, description: 'the strict one', "
                        "sli: {availability: {}}}")
        if draw.random() < 0.3:
            slos.append("      - name: raw\n        objective: 99\n        sli:\n          raw:\n"
                        f"            error_ratio_query: avg_over_time(errors_ratio{{job=\"{name}\"}}[{{{{window}}}}])")
        draw.shuffle(slos)
        out.append(f"  - name: {name}\n    team: team-{i % 4}\n    http: true\n    slos:\n" + "\n".join(slos) + "\n")
    return "".join(out) + TAIL


@pytest.fixture(autouse=True)
def as_units(monkeypatch):
    monkeypatch.setattr(generate, "UNITS_FROM", 0)   # whatever the renders of whole services would be


@pytest.fixture(scope="module")
def model():
    return load_text(drawn(40), "obs.yaml")


def test_each_unit_makes_the_same_files_in_its_model_of_one_slo_per_service_as_in_the_whole_model(model):
    # What a unit makes reads its SLO and its service's own settings, never another SLO of the service: in the
    # models the units are stamped in, where each service holds one SLO, it makes what it makes beside the others.
    makers = [m.unit for m in (rules, rule_tests, rulers, kube)]
    slots = units.slot_models(model)
    by_name = {(s.name, s.slos[0].name): m for m in slots for s in m.services}
    compared = 0
    for service in model.services:
        for slo in service.slos:
            alone = units.alone(service, slo)
            slot = by_name[service.name, slo.name]
            for make in makers:
                there, here = made(make(slot, alone)), made(make(model, alone))
                forget(slot)
                forget(model)
                assert there == here, f"{service.name} {slo.name}: {make.__module__}"
                compared += len(here)
    assert compared > 300
    assert any(s.kind_shared for s in model.services for s in s.slos)   # the case the suites read
    assert any(not s.kind_shared for s in model.services for s in s.slos)


def test_the_slots_hold_each_service_once_and_the_slos_of_one_name_together(model):
    slots = units.slot_models(model)
    for slot in slots:
        names = [s.name for s in slot.services]
        assert len(names) == len(set(names)) and all(len(s.slos) == 1 for s in slot.services)
    assert sorted((s.name, s.slos[0].name) for m in slots for s in m.services) == sorted(
        (s.name, slo.name) for s in model.services for slo in s.slos)
    assert {s.slos[0] for m in slots for s in m.services} == {slo for s in model.services for slo in s.slos}
    for name in ("availability", "latency"):
        assert sum(any(s.slos[0].name == name for s in m.services) for m in slots) == 1


def test_the_files_composed_of_a_frame_and_its_slos_parts_are_the_files_dumped_whole(model):
    files = {p: t for s in model.services for p, t in made({k: v for mk in service_makers()
                                                              for k, v in mk(model, s).items()}).items()}
    for service in model.services:
        groups = rules.service_groups(model, service.name)
        assert files[c.rules_file(service.name)] == yaml(model, {"groups": groups})
        kube_file = c.kube_file("rules", service.name)
        assert files[kube_file] == yaml(model, kube_rules._object(model, service.name, groups))
        thanos = [{**g, "partial_response_strategy": rulers.PARTIAL_RESPONSE} for g in groups]
        assert files[c.thanos_rules_file(service.name)] == yaml(model, {"groups": thanos})
        namespace = f"{model.project}-{service.name}"
        assert files[c.cortex_rules_file(model.kubernetes.tenant, namespace)] == yaml(
            model, {"namespace": namespace, "groups": groups})
        suite = files[c.rule_test_file(service.name)]
        doc = yaml_read.load(suite)
        own = [(rule_tests.slo_tests(model, slo)) for slo in service.slos]
        assert [t["name"] for t in doc["tests"]] == [rule_tests.no_data_group(model, service)["name"],
                                                     *(g["name"] for groups, _ in own for g in groups)]
        assert [line for line in suite.split("\n") if line.startswith("# Note: ")] == [
            f"# Note: {n}" for _, notes in own for n in notes]
        assert doc["group_eval_order"] == rules.group_names(service)
        assert units.mark(Part.NOTES) not in suite and "\0" not in "".join(files.values())


def test_services_whose_slos_are_drawn_one_by_one_share_shapes_of_slo_though_hardly_any_of_service():
    model = load_text(drawn(120, seed=3), "obs.yaml")
    stamping = stampings(model)
    services, slos = stamping.shapes
    assert services > 90 and slos < 40, (services, slos)
    assert_stamped_equals_full(model)


def test_the_repositorys_spec_is_composed_as_dumped_whole():
    model = load_model(REPO / "obs.yaml")
    for service in model.services:
        if service.slos:
            text = made(rules.files(model, service))[c.rules_file(service.name)]
            assert text == yaml(model, {"groups": rules.service_groups(model, service.name)})


@pytest.mark.parametrize("frame, parts, expected", [
    ("a:\n\0rules\0\n", {Part.RULES: ["- x", "- y"]}, "a:\n- x\n- y\n"),
    ("a:\n- n\n\0tests\0\n", {Part.TESTS: ["", "- t"]}, "a:\n- n\n- t\n"),
    ("a:\n- n\n\0tests\0\n", {Part.TESTS: ["", ""]}, "a:\n- n\n"),
    ("# h\n# \0notes\0\nb: 1\n", {Part.NOTES: ["# Note: x", ""]}, "# h\n# Note: x\nb: 1\n"),
    ("# h\n# \0notes\0\nb: 1\n", {Part.NOTES: []}, "# h\nb: 1\n"),
    ("b: 1\n", {Part.RULES: ["- x"]}, "b: 1\n"),
], ids=["parts one after another", "an empty part is left out", "no part: the mark goes with its line",
        "notes among the header's lines", "no notes", "a frame without the mark is as it is"])
def test_compose_writes_each_slos_part_at_its_mark(frame, parts, expected):
    assert units.compose(frame, lambda part: parts.get(part, ())) == expected
