"""Per-service files stamped per shape of service (obs.generate.stamp) are byte for byte the files a full render
writes, whatever the names; and at scale the stamping really happens."""
from __future__ import annotations

import dataclasses
import os
import re
from typing import cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obs import generate
from obs.emit import halves, writer
from obs.generate import LAYOUT, common, render, service_makers, stamp, stamp_fill, stamp_texts, stamp_tree
from obs.generate import stamp_proofs as proofs
from obs.generate import stamp_thresholds as thresholds
from obs.generate.common import forget, made
from obs.generate.slo import rules
from obs.model import conventions
from obs.model.domain import Service
from obs.project import load_model, load_text
from tests.support.paths import REPO

TAIL = """alerting:
  receivers:
    - {name: pager, pagerduty: {routing_key: {env: PD_KEY}}}
    - {name: chat, slack: {api_url: {env: SLACK_URL}, channel: '#alerts'}}
  routes:
    - {match: {severity: page}, receiver: pager}
    - {match: {severity: ticket}, receiver: chat}
"""


def service(name: str, team: str = "core", query_metric: str = "jobs_total") -> str:
    """Like a templated service: availability, latency and an events SLO whose queries name the service."""
    return f"""  - name: '{name}'
    team: {team}
    http: true
    slos:
      - {{name: availability, objective: 99.9, sli: {{availability: {{}}}}}}
      - {{name: latency, objective: 99, sli: {{latency: {{threshold: 500ms}}}}}}
      - name: jobs
        objective: 99
        sli:
          events:
            error_query: sum(rate({query_metric}{{service_name="{name}",outcome="failure"}}[{{{{window}}}}]))
            total_query: sum(rate({query_metric}{{service_name="{name}"}}[{{{{window}}}}]))
"""


@pytest.fixture(autouse=True, params=["frames and units", "whole services"])
def stamped_as(request, monkeypatch) -> str:
    """Every test here once with services stamped as frames and units (obs.generate.units) and once whole, as a spec
    that needs few renders in full is (obs.generate.UNITS_FROM)."""
    monkeypatch.setattr(generate, "UNITS_FROM", 0 if request.param == "frames and units" else 10**9)
    return request.param


def spec(*services: str) -> str:
    return "version: obs/v1\nproject: shop\nservices:\n" + "".join(services) + TAIL


def full_render(model):
    saved = stamp.MIN_MEMBERS
    stamp.MIN_MEMBERS = 10**9
    try:
        return render(model)
    finally:
        stamp.MIN_MEMBERS = saved


def assert_stamped_equals_full(model) -> None:
    stamped, full = render(model), full_render(model)
    assert sorted(stamped) == sorted(full)
    assert [p for p in full if stamped[p] != full[p]] == []


class Calls(list[str]):
    """The names of the services whose frames were rendered in full, in order; `units`, those of the units of each
    SLO (obs.generate.units), by the SLO's name."""

    def __init__(self) -> None:
        super().__init__()
        self.units: dict[str, list[str]] = {}

    def each(self) -> list[list[str]]:
        """The frames' list and each SLO's."""
        return [list(self), *self.units.values()]


def recorded_renders(monkeypatch, extra=None) -> Calls:
    """The names of the services rendered in full from now on, in order, whether made at once (a stand-in, a probe)
    or when read (a Deferred); `extra(service)` adds a file x/<name> holding what it returns to a frame, as a
    generator that reads the name would."""
    calls = Calls()
    one = stamp._one

    def recorded(m, s, makers):
        files = one(m, s, makers)
        if rules.unit in makers:   # the makers of units, not of frames or whole services
            calls.units.setdefault(s.slos[0].name, []).append(s.name)
            return files
        calls.append(s.name)
        return files if extra is None else {**files, f"x/{s.name}": lambda: extra(s)}

    monkeypatch.setattr(stamp, "_one", recorded)
    return calls


def extra_files(model) -> dict[str, str]:
    """The x/<name> files recorded_renders()'s `extra` adds, as a stamped per-service render writes them."""
    files = stamp_tree.Tree(stamp.per_service(model, [], lambda m: None))
    return {p: t for p, t in files.items() if p.startswith("x/")}


def renders_stamped_as_in_full(model, monkeypatch) -> list[str]:
    """The services a render renders in full, having checked that its files are those of a full render."""
    full = full_render(model)
    calls = recorded_renders(monkeypatch)
    stamped = render(model)
    assert sorted(stamped) == sorted(full)
    assert [p for p in full if stamped[p] != full[p]] == []
    return calls


NAMES = {
    "templated services of three teams": [(f"svc-{i:03d}", f"team-{i % 3}") for i in range(12)],
    "names that are words YAML reads otherwise, and digits only": [(n, "core") for n in
                                                                   ("yes", "no", "on", "null", "true", "123", "0001",
                                                                    "api", "web", "db1")],
    "names long enough that OpenSLO names carry a hash of them": [(f"{'long-service-name-' * 3}{i:04d}", "core")
                                                                   for i in range(4)],
    "a name inside another's, and a name inside the metric's": [(n, "core") for n in
                                                                 ("jobs", "api", "api-v2", "api-v3", "total")],
    "teams inside names, names inside teams, and teams of any text": [
        ("payments-api", "payments"), ("payments-web", "payments"), ("payments-db", "payments"),
        ("web", "web-team"), ("api", "api-team"), ("cli", "cli-team"),
        ("svc-a1", "Team One"), ("svc-b2", "Team Two"), ("svc-c3", "Team Six"), ("svc-d4", "Team One")],
    "one template at every length across the one where OpenSLO names are hashed": [
        (f"{'x' * n}-svc", "core") for n in (3, 4, 20, 45, 46, 47, 48, 50, 55)],
    "a team's stand-in inside a member's name": [(f"kvwy{i}", "team-a") for i in range(4)]
                                                + [(f"abcd{i}", "team-b") for i in range(4)],
}


@pytest.mark.parametrize("names", NAMES.values(), ids=list(NAMES))
def test_stamped_files_are_the_files_a_full_render_writes(names):
    assert_stamped_equals_full(load_text(spec(*(service(n, t) for n, t in names)), "obs.yaml"))


def test_the_repositorys_spec_renders_alike_stamped_and_in_full():
    assert_stamped_equals_full(load_model(REPO / "obs.yaml"))


@pytest.mark.parametrize("settings", [{"names": "realistic", "various": True}, {"names": "numbered", "various": True},
                                      {"names": "realistic", "richer": True}, {"names": "realistic", "distinct": True},
                                      {"names": "realistic", "shuffled": True},
                                      {"names": "realistic", "various": True, "own_texts": True}],
                         ids=["various", "numbered", "richer", "distinct", "shuffled", "own texts"])
def test_the_benchmarks_specs_render_alike_stamped_and_in_full(settings, monkeypatch):
    # bench/generate_at_scale.py's specs: descriptions, owners, calls, runbooks, objectives and thresholds that vary,
    # classic and native histograms, SLOs grouped by route; or a threshold per service (stood in for, so that
    # services whose thresholds share a class share a shape, obs.generate.stamp_thresholds); or each setting drawn at
    # random on its own, so that most shapes have a member or two (rendered in full) and the rest a few; or each SLO
    # its own runbook by number (stood in for, obs.generate.stamp_texts).
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    from generate_at_scale import spec as scale_spec
    model = load_text(scale_spec(240, **settings), "obs.yaml")
    full = full_render(model)
    monkeypatch.setattr(halves, "_cores", lambda: 1)   # every render in this process, where it is recorded
    calls = recorded_renders(monkeypatch)
    stamped = render(model)
    assert sorted(stamped) == sorted(full)
    assert [p for p in full if stamped[p] != full[p]] == []
    # Each SLO's part of its service's files, the bulk of a render, is stamped per shape of SLO: shuffled, 104 shapes
    # of 240 services, most of a member or two, yet their SLOs share a shape with many others.
    slos = sum(len(s.slos) for s in model.services)
    assert sum(map(len, calls.units.values())) < slos / (5 if settings.get("shuffled") else 4)
    assert bool(calls.units) == (generate.UNITS_FROM == 0)
    if settings.get("shuffled"):   # the frames, cheap, per shape of service
        assert len(calls) < len(model.services) * 3 / 4
    elif settings.get("richer"):
        assert len(calls) < len(model.services) * 2 / 3   # more shapes, fewer members each: more probes
    else:
        assert len(calls) < len(model.services) / 3


def test_at_scale_each_shape_is_rendered_twice_not_once_per_service(monkeypatch):
    # Two shapes: names of two patterns. The teams are stood in for like the names, so they make no more.
    model = load_text(spec(*(service(f"svc-{i:03d}", f"team-{i % 3}") for i in range(40)),
                           *(service(f"api{i:02d}", f"team-{i % 3}") for i in range(20))), "obs.yaml")
    calls = recorded_renders(monkeypatch)
    render(model)
    # per shape: the stand-ins, and one member rendered in full to prove the stamp (every member is as long)
    assert calls == ["qzx-777", "qzx77", "svc-000", "api00"]


def test_a_shape_whose_stamp_differs_from_its_members_is_rendered_in_full(monkeypatch):
    # A generator that reads the name (here: the sum of its characters) must not be stamped: the proof renders fail.
    model = load_text(spec(*(service(f"svc-{i:03d}") for i in range(5))), "obs.yaml")
    calls = recorded_renders(monkeypatch, lambda s: str(sum(map(ord, s.name))))
    assert extra_files(model) == {
        f"x/svc-{i:03d}": str(sum(map(ord, f"svc-{i:03d}"))) for i in range(5)}
    assert len(calls) == 1 + 1 + 4   # the stand-ins, the proof, then the remaining members in full


def test_a_shape_whose_only_proof_fails_for_its_length_is_rendered_in_full(monkeypatch):
    # A generator that pads short names to 8 characters: the members of length 7 differ from their stamp, made at
    # the lead's 9. The proof of the shortest fails, and no other holds to show the stamp's own length exact.
    names = ("svc-000", "svc-001", "svc-002", "svc-003", "svc-0004", "svc-0005", "svc-00006", "svc-00007")
    model = load_text(spec(*(service(n) for n in names)), "obs.yaml")
    calls = recorded_renders(monkeypatch, lambda s: s.name.ljust(8, "."))
    assert extra_files(model) == {f"x/{n}": n.ljust(8, ".") for n in names}
    # the stand-ins, as long as the lead (the first of the longest); the first of the shortest, which fails; then
    # every other member in full
    assert calls[1:] == ["svc-000", "svc-001", "svc-002", "svc-003", "svc-0004", "svc-0005", "svc-00006", "svc-00007"]


def test_a_stamp_cut_at_its_own_length_is_never_stamped_though_no_member_of_that_length_is_rendered(monkeypatch):
    # A generator that cuts names at 8 characters cuts the stand-ins, made at the lead's 9: the stamp holds part of
    # one, which no member's text made from it may keep. The one proof (the shortest, not cut) fails for it, and
    # since none holds, nothing shows the stamp's own length exact: every member of 9 is rendered in full too.
    names = ("svc-000", "svc-001", "svc-002", "svc-0003", "svc-00004", "svc-00005")
    model = load_text(spec(*(service(n) for n in names)), "obs.yaml")
    calls = recorded_renders(monkeypatch, lambda s: s.name[:8])
    assert extra_files(model) == {f"x/{n}": n[:8] for n in names}
    assert len(calls[0]) == 9 and calls[1:] == ["svc-000", "svc-001", "svc-002", "svc-0003", "svc-00004", "svc-00005"]


def test_lengths_between_the_shortest_and_the_longest_are_stamped_when_both_pass(monkeypatch):
    # One template at five lengths: the stand-ins as long as the longest (the lead's) and the shortest member prove
    # the stamp; the members of the lengths between them, and the lead, are stamped, not rendered.
    names = ("svc-0000", "svc-0001", "svc-000002", "svc-000", "svc-00003", "svc-0000004", "svc-00005", "svc-000006")
    model = load_text(spec(*(service(n) for n in names)), "obs.yaml")
    full = full_render(model)
    calls = recorded_renders(monkeypatch)
    stamped = render(model)
    assert calls[1:] == ["svc-000"]
    assert sorted(stamped) == sorted(full)
    assert [p for p in full if stamped[p] != full[p]] == []


LIMITED = [("svc-000", "team-00"), ("svc-001", "team-01"), ("svc-0000002", "team-2"), ("svc-3", "team-0000003"),
           ("svc-000004", "team-00004"), ("svc-000005", "team-0005")]


def renders_cut_at(limit: int, monkeypatch) -> list[str]:
    """The services of LIMITED rendered in full where a generator cuts "<team>-<name>" at `limit` characters, having
    checked that every member's file is cut so."""
    model = load_text(spec(*(service(n, t) for n, t in LIMITED)), "obs.yaml")
    calls = recorded_renders(monkeypatch, lambda s: f"{s.team}-{s.name}"[:limit])
    assert extra_files(model) == {f"x/{n}": f"{t}-{n}"[:limit] for n, t in LIMITED}
    return calls


def test_a_member_whose_proof_fails_within_the_lengths_others_prove_renders_the_shape_in_full(monkeypatch):
    # A generator that reads what the names hold (a mark for "0000"): the stand-ins as short as the shortest and as
    # long as the longest hold no such thing and pass, the lead's proof fails at lengths between theirs, so no
    # length is the cause: every member is rendered in full, svc-0000002 with its mark.
    members = [("svc-000", "team-00"), ("svc-0000002", "team-2"), ("svc-3", "team-0000003"),
               ("svc-000004", "team-00004")]
    model = load_text(spec(*(service(n, t) for n, t in members)), "obs.yaml")
    calls = recorded_renders(monkeypatch, lambda s: s.name + ("!" if "0000" in s.name else ""))
    assert extra_files(model) == {
        f"x/{n}": n + ("!" if "0000" in n else "") for n, _ in members}
    assert calls[3:] == ["svc-000004", "svc-000", "svc-0000002", "svc-3"]   # after the stamp's and the proofs' renders


READINGS = {   # what a generator may make of the words' lengths: (name, team, limit) -> the text it writes
    "cut <team>-<name>": lambda name, team, n: f"{team}-{name}"[:n],
    "pad the name": lambda name, team, n: name.ljust(n, "."),
    "hash a long name": lambda name, team, n: name if len(name) <= n else f"h{sum(map(ord, name)) % 9973}",
    "both words when short": lambda name, team, n: f"{name}/{team}" if len(name) + len(team) < n else "long",
}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(1, 9), st.integers(1, 9)), min_size=3, max_size=8, unique=True),
       st.sampled_from(sorted(READINGS)), st.integers(5, 24))
def test_whatever_a_generator_makes_of_the_lengths_every_member_gets_its_own_text(monkeypatch, lengths, reading, n):
    # Members of one shape whose names and teams are of random lengths, and a generator that cuts, pads or hashes
    # at a random limit: each member's file is what the generator makes of its own words, stamped or not.
    members = [(f"svc-{'0' * a}{i}", f"team-{'1' * b}") for i, (a, b) in enumerate(lengths)]
    model = load_text(spec(*(service(name, team) for name, team in members)), "obs.yaml")
    make = READINGS[reading]
    recorded_renders(monkeypatch, lambda s: make(s.name, s.team, n))
    assert extra_files(model) == {
        f"x/{name}": make(name, team, n) for name, team in members}


def test_a_limit_that_cuts_the_leads_words_renders_the_shape_in_full(monkeypatch):
    # A generator that cuts "<team>-<name>" at 18 characters. No member holds more than two of the shortest and
    # longest names, teams and totals, so the lead is the longest of those that need the fewest proofs besides:
    # stand-ins as short as the shortest and as long as the longest. It exceeds the limit, and so do the stamp's
    # stand-ins, made at its lengths: no member's proof holds.
    calls = renders_cut_at(18, monkeypatch)
    # the stamp's stand-ins, the shortest, the longest; the lead; then every other member in full
    assert [len(n) for n in calls[:3]] == [10, 5, 11]
    assert calls[3:] == ["svc-000004", "svc-000", "svc-001", "svc-0000002", "svc-3", "svc-000005"]


def test_a_limit_on_name_and_team_together_renders_in_full_what_passes_each_alone(monkeypatch):
    # The same at 21 characters: the lead passes, the stand-ins as long as the longest name and the longest team
    # (11 and 11) do not. The members whose name or team is as long, each passing alone, are rendered in full; the
    # others are stamped.
    calls = renders_cut_at(21, monkeypatch)
    assert [len(n) for n in calls[:3]] == [10, 5, 11]
    assert calls[3:] == ["svc-000004", "svc-0000002", "svc-3"]


def test_stand_ins_as_short_as_the_shortest_and_as_long_as_the_longest_prove_what_no_one_member_holds(monkeypatch):
    # The longest name, the longest team and the longest total are each another member's, and so are the shortest
    # name and team: one render of stand-ins as long as the longest of each proves all three longest, one of
    # stand-ins as short as the shortest all three shortest, and every member but the lead (the longest total of
    # those that need no more) is stamped.
    members = [("svc-000", "team-00"), ("svc-0000002", "team-2"), ("svc-3", "team-0000003"),
               ("svc-000004", "team-00004"), ("svc-005", "team-05")]
    model = load_text(spec(*(service(n, t) for n, t in members)), "obs.yaml")
    calls = renders_stamped_as_in_full(model, monkeypatch)
    assert [len(n) for n in calls[:3]] == [10, 5, 11] and calls[3:] == ["svc-000004"]


@pytest.mark.parametrize("name", ["svc-0001", "a1b2c3", "payments-api", "x-y-z-9", "Team Payments (EU)"])
def test_a_stand_in_keeps_the_names_pattern_and_length(name):
    other = stamp._stand_in(name, set(), stamp._ALPHABETS[0])
    assert other is not None and other != name and len(other) == len(name)
    assert stamp._pattern(other) == stamp._pattern(name)


@pytest.mark.parametrize("word", ["ml", "a", "db-1", "x9", "ab-cd", "A"])
def test_a_word_of_one_or_two_letters_gets_a_stand_in_of_three_with_its_pattern(word):
    other = stamp._stand_in(word, set(), stamp._ALPHABETS[1])
    assert other is not None and other != word
    assert sum(ch.isalpha() for ch in other) >= 3 and stamp._pattern(other) == stamp._pattern(word)


def test_members_of_a_two_letter_team_are_stamped_like_the_rest(monkeypatch):
    # Names of one domain, whose team is the two letters "ml": a stand-in of three letters stands for it.
    model = load_text(spec(*(service(f"ml-{c}", "ml") for c in ("api", "web", "etl", "ops", "gpu"))), "obs.yaml")
    assert len(renders_stamped_as_in_full(model, monkeypatch)) == 2   # the stand-ins and one member


@pytest.mark.parametrize("text, word, against", [
    ("sum(rate(x))", "rate", False),
    ("sum(rate(x))", "a", True),                  # inside `rate`
    ("payments_api_jobs_total", "payments", False),   # an underscore is no letter: snake_case names stand apart
    ("api-v2 xapi", "api", True),                 # the second time
    ("api2", "api", True),
    ("aapi", "api", True),
    ("é-api", "api", False),
    ("éapi", "api", True),                        # letters beyond ASCII count
    ("", "api", False),
])
def test_a_word_stands_against_a_letter_or_a_digit_where_the_regex_of_one_would_find_it(text, word, against):
    assert stamp._against(text, word) is against
    assert bool(re.search(rf"[^\W_]{re.escape(word)}|{re.escape(word)}[^\W_]", text)) is against


@pytest.mark.parametrize("team", ["rate", "sum", "a", "jobs"])
def test_a_team_that_is_also_a_word_of_a_query_renders_alike_stamped_and_in_full(team):
    # The stand-ins' service renames the team wherever it stands: `rate` and `sum` make queries that name no
    # function, which the rule tests' generator refuses; `a` stands inside `rate`; `jobs` inside `jobs_total`.
    assert_stamped_equals_full(load_text(spec(*(service(f"svc-{i:03d}", team) for i in range(4))), "obs.yaml"))


def test_a_shape_whose_stand_ins_a_generator_refuses_is_rendered_in_full(monkeypatch):
    calls = recorded_renders(monkeypatch, lambda s: s.name if "qzx" not in s.name else 1 / 0)
    model = load_text(spec(*(service(f"svc-{i:03d}") for i in range(5))), "obs.yaml")
    assert extra_files(model) == {f"x/svc-{i:03d}": f"svc-{i:03d}"
                                                                      for i in range(5)}
    assert len(calls) == 1 + 5   # the stand-ins (refused), then every member


def test_the_stamps_stand_ins_have_the_leads_lengths_and_the_proofs_the_shortest_and_longest():
    model = load_text(spec(*(service(n, t) for n, t in [
        ("svc-000", "team-00"), ("svc-001", "team-01"), ("svc-00002", "team-2"), ("svc-0", "team-0"),
        ("svc-00004", "team-04"), ("svc-005", "team-0005")])), "obs.yaml")
    members = list(model.services)
    stands = [stamp._stand(m) for m in members]
    short, long = proofs.extremes(stands)
    assert (short.words, long.words) == (("svc-0", "team-2"), ("svc-00002", "team-0005"))   # the first of equals
    # svc-0 holds every shortest: it needs stand-ins as long as the longest, and a member (itself) to prove them;
    # svc-00004 needs two members, svc-0 and svc-005 (the longest team), and no stand-ins, so it leads
    first = members[proofs.lead(stands, [short, long])]
    assert first.name == "svc-00004"
    own = stamp._stand_ins(model, first, stamp._words(first), stamp._ALPHABETS, stamp._names(model))
    assert own is not None and [len(w) for w in own] == [9, 7]
    taken = stamp._names(model) | set(own)
    extremes = [stamp._stand_ins(model, first, like.words, stamp._PROOF_ALPHABETS, taken) for like in (short, long)]
    assert [[len(w) for w in p or ()] for p in extremes] == [[5, 6], [9, 9]]
    for words, like in zip(extremes, (short, long), strict=True):
        assert words is not None and [stamp._pattern(w) for w in words] == [stamp._pattern(w) for w in like.words]
        assert stamp._back(stamp.Stand(own), stamp.Stand(words)) is not None   # none holds one of the stamp's, which stamping would rename


@pytest.mark.parametrize("word", ["svc-0001", "ml", "a-b-c", "abcdefghijklmnopqrstuvwxyz", "Team Payments (EU)"])
def test_no_stand_in_of_a_proof_holds_one_of_the_stamps_of_either_word(word):
    own = [stamp._stand_in(word, set(), a) for a in stamp._ALPHABETS]
    for alphabet in stamp._PROOF_ALPHABETS:
        for length in range(1, len(word) + 30):
            proof = stamp._stand_in(word[:length] if length <= len(word) else word + word[-1] * (length - len(word)),
                                    set(), alphabet)
            assert proof is None or not any(w and w in proof for w in own)


def test_the_probes_are_the_lead_and_the_fewest_that_reach_every_shortest_and_longest():
    def probes(members):
        model = load_text(spec(*(service(n, t) for n, t in members)), "obs.yaml")
        services = list(model.services)
        stands = [stamp._stand(s) for s in services]
        extremes = list(proofs.extremes(stands))
        lead = proofs.lead(stands, extremes)
        words = stamp._words(services[lead])
        own = stamp._stand_ins(model, services[lead], words, stamp._ALPHABETS, stamp._names(model))
        found, taken = proofs.probes(stands, lead, stamp.Stand(own or words), extremes)
        return [services[j].name for j in found], taken

    # svc-00002 holds the longest name, team and total, svc-0 the shortest of all three: the stamp takes the
    # longer's lengths (a member reaches as much as stand-ins would), and the other proves it
    assert probes([("svc-000", "team-00"), ("svc-001", "team-01"), ("svc-00002", "team-0002"), ("svc-0", "team-0"),
                   ("svc-00004", "team-04"), ("svc-005", "team-0005")]) == (["svc-0"], [])
    # all as long: the stamp's lengths are every member's, and the lead proves it, since one member at least does
    assert probes([(f"svc-{i:03d}", "core") for i in range(4)]) == (["svc-000"], [])
    # no member holds more than two of the shortest and longest names, teams and totals: stand-ins as long as the
    # longest of each reach three at once, and stand-ins as short as the shortest the other three; with them, any
    # member leads, the longest does, and proves them
    assert probes([("svc-000", "team-00"), ("svc-0000002", "team-2"), ("svc-3", "team-0000003"),
                   ("svc-000004", "team-00004")]) == (["svc-000004"], [0, 1])
    # three proofs whichever leads: svc-0 holds every shortest and would need stand-ins as long as the longest and
    # itself; svc-0000004, the longest, needs svc-0 and svc-3, no stand-ins, and leads
    assert probes([("svc-000", "team-00"), ("svc-0", "team-0"), ("svc-3", "team-0000003"),
                   ("svc-0000004", "team-00004")]) == (["svc-0", "svc-3"], [])
    # a team of two letters has a stand-in of three: the stamp takes the lengths of a member of the longer team,
    # and the one of two letters is rendered to prove its lengths
    assert probes([("ml-api", "ml"), ("ml-web", "core"), ("ml-etl", "core")]) == (["ml-api"], [])


def test_names_spelled_in_snake_case_in_queries_are_stamped(monkeypatch):
    # Each service counts its jobs in a metric of its own name, as metric names spell it: pay_api_000_jobs_total.
    names = [f"pay-api-{i:03d}" for i in range(6)]
    model = load_text(spec(*(service(n, "payments", f"{n.replace('-', '_')}_jobs_total") for n in names)), "obs.yaml")
    assert len(renders_stamped_as_in_full(model, monkeypatch)) == 2   # the stand-ins and one member


def test_names_of_as_many_parts_or_more_share_a_shape_and_each_skeleton_is_proven(monkeypatch):
    # Names of two, three and four parts, as a platform names its services and their regions: one shape, whose
    # stamp's stand-ins take one skeleton, and whose proofs hold every other. Snake_case spellings in queries
    # (ads_api_eu_jobs_total) are renamed alike from any of them.
    names = ("ads-api", "ads-web", "billing-api", "ads-api-eu", "ads-web-us", "cart-cache-eu", "cart-cache-warmer-eu",
             "ads-sync-worker-us")
    model = load_text(spec(*(service(n, "core", f"{n.replace('-', '_')}_jobs_total") for n in names)), "obs.yaml")
    assert len(list(stamp._shapes(model, stamp_fill.Renamer()))) == 1
    calls = renders_stamped_as_in_full(model, monkeypatch)
    assert {proofs.skeleton(n) for n in calls} == {"a-a", "a-a-a", "a-a-a-a"}
    assert len(calls) <= 4   # the stamp's stand-ins and a proof of each skeleton at most, not a shape each


def test_a_generator_that_reads_a_skeleton_renders_the_members_of_that_skeleton_in_full(monkeypatch):
    # A generator that marks names of three parts: the stamp, made at four parts, does not hold the mark, the
    # proof of three parts fails for its skeleton, which no proof that holds has, and so the members of three
    # parts are rendered in full, and only they: the proofs of two parts and the stamp's four hold.
    names = ("ads-api", "ads-web", "ads-api-eu", "ads-web-us", "cart-cache-eu", "cart-cache-warmer-eu",
             "ads-sync-worker-us")
    model = load_text(spec(*(service(n) for n in names)), "obs.yaml")

    def mark(s):
        return s.name + ("!" if s.name.count("-") == 2 else "")
    calls = recorded_renders(monkeypatch, mark)
    assert extra_files(model) == {f"x/{n}": n + "!" * (n.count("-") == 2)
                                                                      for n in names}
    assert proofs.skeleton(calls[0]) == "a-a-a-a"
    assert sorted(set(calls[1:])) == ["ads-api", "ads-api-eu", "ads-web-us", "cart-cache-eu"]


SKELETON_READINGS = {   # what a generator may make of a name's skeleton -> the text it writes
    "mark one skeleton": lambda name: name + ("!" if name.count("-") == 2 else ""),
    "count the parts": lambda name: f"{name} of {name.count('-') + 1}",
    "the region, where the last part is one": lambda name: name.rsplit("-", 1)[-1] if name.count("-") > 1 else name,
}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.from_regex(r"[a-z]{2,6}", fullmatch=True), min_size=2, max_size=4).map("-".join),
                min_size=3, max_size=8, unique=True),
       st.sampled_from(sorted(SKELETON_READINGS)))
def test_whatever_a_generator_makes_of_the_skeletons_every_member_gets_its_own_text(monkeypatch, names, reading):
    # Members of one shape whose names have two to four parts of random lengths, and a generator that reads how
    # many there are: each member's file is what the generator makes of its own name, stamped or not.
    model = load_text(spec(*(service(n) for n in names)), "obs.yaml")
    make = SKELETON_READINGS[reading]
    recorded_renders(monkeypatch, lambda s: make(s.name))
    assert extra_files(model) == {f"x/{n}": make(n) for n in names}


def described(name: str, text: str, calls: str = "[]", owner: str = "someone") -> str:
    """service(name) with a description, an owner and calls of its own."""
    return service(name).replace("    http: true\n", f"    description: '{text}'\n    owner: {owner}\n"
                                                    f"    calls: {calls}\n    http: true\n")


def test_services_unlike_only_in_what_their_own_files_never_read_share_a_shape(monkeypatch):
    # Each service is described in its own words, has its own owner and calls others: none of it is in a service's
    # own files (the shared dashboards hold it), so they are one shape, stamped after one proof.
    names = [f"svc-{i:03d}" for i in range(6)]
    model = load_text(spec(*(described(n, f"Does thing #{i}: {'very ' * i}well", f"[{names[(i + 1) % 6]}]",
                                       f"owner-{i}") for i, n in enumerate(names))), "obs.yaml")
    full = full_render(model)
    calls = recorded_renders(monkeypatch)
    stamped = render(model)
    assert len(calls) == 2
    assert sorted(stamped) == sorted(full)
    assert [p for p in full if stamped[p] != full[p]] == []


def test_a_generator_that_read_a_description_would_fail_its_proof_and_render_in_full(monkeypatch):
    # The stand-ins' service has no description: a generator that wrote one would differ from the lead member's.
    model = load_text(spec(*(described(f"svc-{i:03d}", f"Text {i}") for i in range(5))), "obs.yaml")
    calls = recorded_renders(monkeypatch, lambda s: s.description)
    assert extra_files(model) == {f"x/svc-{i:03d}": f"Text {i}" for i in range(5)}
    assert len(calls) == 1 + 5


def own_files(model, service) -> dict[str, str]:
    out = {}
    for make in service_makers():
        out.update(made(make(model, service)))
    forget(model)
    return out


OTHER_VALUES = {"owner": "another-owner", "description": "Another: text, #entirely", "calls": ("elsewhere",),
                "scrape": ()}


@pytest.mark.parametrize("path", ["obs.yaml", "tests/fixtures/kubernetes/obs.yaml", "tests/fixtures/slo/obs.yaml"])
def test_no_generator_of_a_services_own_files_reads_what_a_shape_leaves_out(path):
    assert set(OTHER_VALUES) == set(stamp.UNREAD)
    model = load_model(REPO / path)
    for s in model.services:
        files = own_files(model, s)
        for field, value in [*OTHER_VALUES.items(), *stamp.UNREAD.items()]:
            if value == getattr(s, field):
                continue
            other = dataclasses.replace(s, **{field: value})
            changed = dataclasses.replace(model, services=tuple(other if x is s else x for x in model.services))
            assert own_files(changed, other) == files, f"{path}: {s.name}'s own files read its {field}"


STAND_INS = (("qzx-jqz", "ads-api-eu"), ("qzx_jqz", "ads_api_eu"), ("kvwy", "ads"))
NUMBERS = (("0.113", "0.101"), ("113", "101"), ("113.0", "101.0"))   # stand-in 113 ms, the member's 101 ms


def renumbered(text: str, numbers: thresholds.Pairs) -> str:
    """`text` with each number of `numbers` that stands alone written as its new one, one by one from
    thresholds.spots(): what a stamp's cut and joined text must equal."""
    new_of, out, last = dict(numbers), [], 0
    for start, (end, old) in sorted(thresholds.spots(text, tuple(new_of)).items()):
        out += (text[last:start], new_of[old])
        last = end
    return "".join([*out, text[last:]])


def joined(text: str, stand_ins: stamp_fill.Pairs = STAND_INS, numbers: thresholds.Pairs = NUMBERS) -> str:
    """`text` as a stamp's, made for the member of `stand_ins` and `numbers` (old, new) by joining its pieces."""
    form = stamp_fill.cut(text, stand_ins, tuple(old for old, _ in numbers))
    return stamp_fill.Stamped(text, numbers, form, tuple(new for _, new in (*stand_ins, *numbers))).text()


@pytest.mark.parametrize("text, made", [
    ("", ""),
    ("no stand-in here: 100% of it", "no stand-in here: 100% of it"),
    ("qzx-jqz", "ads-api-eu"),
    ("team: kvwy", "team: ads"),
    ("name: qzx-jqz\nteam: kvwy\nmetric: qzx_jqz_jobs_total{service=\"qzx-jqz\"} %(0)s %%",
     "name: ads-api-eu\nteam: ads\nmetric: ads_api_eu_jobs_total{service=\"ads-api-eu\"} %(0)s %%"),
    ("kvwyqzx-jqzkvwy", "adsads-api-euads"),
    ("le=\"0.113\" qzx-jqz 113ms le=~\"113|113\\.0\" 46113 1130 kvwy-113",
     "le=\"0.101\" ads-api-eu 101ms le=~\"101|101\\.0\" 46113 1130 ads-101"),
])
def test_a_member_is_its_stamps_text_joined_with_its_words_and_numbers_where_the_stand_ins_were(text, made):
    assert joined(text) == made == stamp_fill.replaced(renumbered(text, NUMBERS), STAND_INS)


@settings(max_examples=200)
@given(st.lists(st.one_of(st.sampled_from([old for old, _ in STAND_INS + NUMBERS]),
                          st.text("abc_-%(){}.\n0s1", max_size=6))))
def test_a_stamps_text_joined_with_a_members_words_and_numbers_is_the_text_with_each_replaced(pieces):
    # Random texts of stand-ins, numbers and what lies between (digits and points that make longer numbers of them).
    text = "".join(pieces)
    assert joined(text) == stamp_fill.replaced(renumbered(text, NUMBERS), STAND_INS)


def test_renaming_reaches_every_string_of_a_service_and_its_slos():
    model = load_text(spec(service("checkout")), "obs.yaml")
    renamed: Service = stamp_fill.renamed(model.services[0], "checkout", "qzxjkvwq")
    assert renamed.name == "qzxjkvwq"
    assert {slo.service for slo in renamed.slos} == {"qzxjkvwq"}
    assert "checkout" not in repr(renamed)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.from_regex(r"[a-z]{3}-[a-z0-9]{2}", fullmatch=True),   # one pattern: stamped
                          st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)),
                min_size=3, max_size=6, unique=True),
       st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9 -]{0,8}", fullmatch=True), min_size=1, max_size=3),
       st.sampled_from(["jobs_total", "svc_jobs_total"]))
def test_random_names_and_teams_render_alike_stamped_and_in_full(names, teams, metric):
    services = (service(n, teams[i % len(teams)].strip() or "core", metric) for i, n in enumerate(names))
    assert_stamped_equals_full(load_text(spec(*services), "obs.yaml"))


def own_objective(i: int) -> str:
    """service(svc-<i>) with an availability objective of its own: no two share a shape."""
    return service(f"svc-{i:03d}").replace("objective: 99.9,", f"objective: {95 + i / 10},")


def test_a_member_rendered_in_full_other_than_to_prove_a_stamp_is_made_when_read(monkeypatch):
    # Each service its own shape: none is stamped, none is a probe, so none is rendered before its files are read,
    # and each file is made alone (the writer reads one, hashes it and lets it go).
    model = load_text(spec(*(own_objective(i) for i in range(6))), "obs.yaml")
    full = full_render(model)
    made: list[str] = []
    recorded_renders(monkeypatch, lambda s: made.append(s.name) or s.name)
    tree = render(model)
    assert made == []
    assert tree["x/svc-004"] == "svc-004" and made == ["svc-004"]
    assert sorted(p for p in tree if not p.startswith("x/")) == sorted(full)
    assert [p for p in full if tree[p] != full[p]] == []


def kept(tree) -> set[tuple[str, ...]]:
    """What generators keep (per_model) for the models of the tree's files rendered in full when read."""
    pieces = [v for v in tree._files.values() if isinstance(v, stamp_tree.Deferred)]
    pieces += [p for v in tree._files.values() if isinstance(v, stamp_tree.Composed)
               for p in (v.frame, *(p for ps in v.parts.values() for p in ps)) if isinstance(p, stamp_tree.Deferred)]
    return {key for model_id in {id(p.model) for p in pieces} for key in common._MEMOS.get(model_id, {})}


def test_reading_files_rendered_in_full_keeps_one_members_parts_at_most_and_builds_them_once_per_member(monkeypatch,
                                                                                                    stamped_as):
    # What generators keep per model (an SLO's rule groups, feeding its rules, its PrometheusRule and the rulers'
    # copies; its tests) is kept while that member's files are read, and dropped when another's is: reading a
    # thousand services keeps one's at most, and each member's files, read one after another, build its parts once.
    # Each service's availability SLO has an objective of its own: each service a shape of its own.
    model = load_text(spec(*(own_objective(i) for i in range(4))).replace("alerting:", "rulers: [thanos]\nalerting:"),
                      "obs.yaml")
    tree = render(model)
    built: list[str] = []
    real = rules.slo_groups
    monkeypatch.setattr(rules, "slo_groups", lambda m, slo: built.append(slo.service) or real(m, slo))
    units = [unit for unit in tree.units() if len(unit) > 1]
    assert [len({tree._files[p].owner for p in unit}) for unit in units] == [1] * 4   # a unit per member
    in_full = [p for unit in units for p in unit]
    assert any(p.startswith("deploy/rulers/") for p in in_full) and any("kubernetes/rules" in p for p in in_full)
    for unit in units:
        owner = tree._files[unit[0]].owner
        for path in unit:
            assert tree[path]
            assert {key[1] for key in kept(tree)} <= {owner}, f"{path}: its making left {kept(tree)} behind"
        # as units, its availability SLO's alone are built: its others are stamped
        once = 1 if stamped_as == "frames and units" else 3
        assert built.count(owner) == once, f"{owner}'s rule groups were built {built.count(owner)} times"
    for path in reversed(in_full):   # in another order, a member's parts are built again when it comes back
        assert tree[path]
        assert len({key[1] for key in kept(tree)}) <= 1
    assert len(built) > 4


def test_a_file_that_fails_to_be_made_when_read_leaves_the_tree_as_it_was(tmp_path, monkeypatch):
    # A generator's error while the writer reads a deferred file is raised, and nothing is written: no file, no
    # staging folder.
    model = load_text(spec(*(own_objective(i) for i in range(4))), "obs.yaml")
    recorded_renders(monkeypatch, lambda s: 1 / 0 if s.name == "svc-002" else s.name)
    tree = render(model)
    with pytest.raises(ZeroDivisionError):
        writer.write(tmp_path / "out", tree, LAYOUT)
    assert list((tmp_path / "out").iterdir()) == []


def test_alike_pairs_each_stamped_file_with_the_first_stamped_from_the_same_text(monkeypatch):
    names = [f"svc-{i:03d}" for i in range(6)]
    model = load_text(spec(*(service(n) for n in names)), "obs.yaml")
    tree = render(model)
    alike = tree.alike()
    stamped = [n for n in names if conventions.rules_file(n) in alike]
    assert len(stamped) >= 3   # six of one shape: all but the proofs are stamped
    first = stamped[0]
    assert {n: alike[conventions.rules_file(n)] for n in stamped} == {n: conventions.rules_file(first) for n in stamped}
    # the same text but for the names, and a file rendered in full (a proof's) in neither place
    assert all(tree[conventions.rules_file(n)].replace(n, first) == tree[conventions.rules_file(first)] for n in stamped)
    assert not set(names) - set(stamped) & {p.split("/")[-1].split(".")[0] for p in alike.values()}


def with_threshold(name: str, ms: int) -> str:
    """service(name) with a native latency threshold of `ms` milliseconds."""
    return service(name).replace("threshold: 500ms", f"threshold: {ms}ms")


def latency_ms(s: Service) -> int:
    return next(slo.sli.threshold.ms for slo in s.slos if slo.sli.threshold is not None)


def test_services_whose_thresholds_share_a_class_share_a_shape_and_render_alike_stamped_and_in_full(monkeypatch):
    # Thresholds between 62.5 and 125 ms fill the same schema-0 buckets: one shape, whose stamp is rendered at a
    # stand-in threshold of that class under the members' (63 ms), and proven by the member of the highest.
    model = load_text(spec(*(with_threshold(f"svc-{i:03d}", ms) for i, ms in enumerate((101, 110, 124, 103, 117)))),
                      "obs.yaml")
    calls = renders_stamped_as_in_full(model, monkeypatch)
    assert calls == ["qzx-777", "svc-002"]


@pytest.mark.parametrize("ms, stood", [(101, True), (1099, True), (1500, True), (3000, False), (100, False),
                                       (250, False), (125, False), (2000, False), (12345, True), (1, False),
                                       (3, True)],
                         ids=lambda v: str(v))
def test_thresholds_that_are_default_boundaries_or_alone_in_their_class_are_not_stood_in_for(ms, stood):
    # 100 and 250 ms are OTel's default boundaries (a classic instance beside is read at them); 125 ms and 2 s are
    # powers of two, each its own class; 3 s is the one whole second between 2 and 4; 1 ms the one millisecond
    # between 0.98 and 1.95.
    model = load_text(spec(with_threshold("svc-000", ms)), "obs.yaml")
    assert thresholds.numbers(model.services[0]) == ((ms,) if stood else ())


@pytest.mark.parametrize("a, b, alike", [(101, 124, True), (101, 126, False), (1001, 1999, True), (1500, 1999, True),
                                         (300, 600, False)], ids=lambda v: str(v))
def test_thresholds_share_a_class_where_they_fill_the_same_buckets(a, b, alike):
    assert (thresholds.pattern((a,)) == thresholds.pattern((b,))) is alike


@pytest.mark.parametrize("text, renamed", [
    ("le=0.101 and le=~\"101|101\\\\.0\"", "le=0.117 and le=~\"117|117\\\\.0\""),
    ("count:46101 sum:1010 bucket:101.5", "count:46101 sum:1010 bucket:101.5"),
    ("101.0, 101ms, 101.", "117.0, 117ms, 117."),
    ("0.1010 10.101 a101b", "0.1010 10.101 a117b"),
])
def test_a_threshold_is_renamed_where_it_stands_alone_not_within_a_longer_number(text, renamed):
    assert joined(text, (), cast(thresholds.Pairs, thresholds.pairs((101,), (117,)))) == renamed


def test_two_thresholds_of_a_service_keep_their_order_and_their_stand_ins_are_none_of_the_members():
    ins = thresholds.stand_ins((110, 101, 110), {101, 110, 63, 64})
    assert ins is not None and ins[0] == ins[2] and ins[1] < ins[0] and not set(ins) & {101, 110}
    assert thresholds.pattern((110, 101, 110)) == thresholds.pattern(ins) != thresholds.pattern((101, 110, 110))


THRESHOLD_READINGS = {   # what a generator may make of a threshold besides writing it: ms -> the text it writes
    "a limit within the class": lambda ms: "slow" if ms > 111 else "fast",
    "the threshold's own digits": lambda ms: str(ms * 3),
    "a number that is the stand-in's": lambda ms: f"{thresholds.stand_ins((ms,), set(range(100, 125)))[0]}",
}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(101, 124), min_size=3, max_size=7, unique=True), st.sampled_from(sorted(THRESHOLD_READINGS)))
def test_whatever_a_generator_makes_of_the_threshold_every_member_gets_its_own_text(monkeypatch, values, reading):
    # Members of one shape at random thresholds of one class, and a generator that reads the threshold against a
    # limit, computes from it, or writes a number equal to the stand-in's: each member's file is its own.
    model = load_text(spec(*(with_threshold(f"svc-{i:03d}", ms) for i, ms in enumerate(values))), "obs.yaml")
    make = THRESHOLD_READINGS[reading]
    recorded_renders(monkeypatch, lambda s: make(latency_ms(s)))
    assert extra_files(model) == {
        f"x/svc-{i:03d}": make(ms) for i, ms in enumerate(values)}


def test_alike_keeps_apart_files_stamped_for_other_thresholds():
    # promtool's result at one threshold is not taken for another's: what a test computes at it may differ.
    model = load_text(spec(*(with_threshold(f"svc-{i:03d}", ms) for i, ms in enumerate((101, 110, 110, 124, 101)))),
                      "obs.yaml")
    tree = render(model)
    owner = {conventions.rules_file(s.name): s for s in model.services}
    paired = [(owner[path], owner[first]) for path, first in tree.alike().items() if path in owner]
    assert len(paired) >= 3 and len({first.name for _, first in paired}) >= 2
    assert all(latency_ms(member) == latency_ms(first) for member, first in paired)


def test_a_threshold_every_member_shares_is_written_as_it_is_not_renumbered(monkeypatch):
    model = load_text(spec(*(with_threshold(f"svc-{i:03d}", 300) for i in range(5))), "obs.yaml")
    renders_stamped_as_in_full(model, monkeypatch)
    stamped = [v for v in render(model)._files.values() if isinstance(v, stamp_fill.Stamped)]
    assert stamped and all(v.numbers == () for v in stamped)
    assert any("0.3" in v.template for v in stamped)


def texted(name: str, description: str, runbook: str, annotations: dict[str, str] | None = None,
           objective: str = "99.9") -> str:
    """A templated service whose availability SLO holds texts of its own: a description, a runbook, annotations."""
    notes = ", ".join(f"{key}: '{value}'" for key, value in (annotations or {}).items())
    note = f", annotations: {{{notes}}}" if notes else ""
    return f"""  - name: {name}
    team: core
    http: true
    slos:
      - name: availability
        description: '{description}'
        objective: {objective}
        sli: {{availability: {{}}}}
        alerting: {{runbook_url: '{runbook}'{note}}}
      - {{name: latency, objective: 99, sli: {{latency: {{threshold: 500ms}}}}}}
"""


TEXTS = {
    "a runbook by number": [texted(f"svc-{i:03d}", "Requests served", f"https://wiki.example.com/runbooks/{i}")
                            for i in range(12)],
    "a description that counts, of one and of three digits": [
        texted(f"svc-{i:03d}", f"SLO {i * 37} of the platform", "https://wiki.example.com/a") for i in range(12)],
    "a runbook, a description and an annotation, each its own": [
        texted(f"svc-{i:03d}", f"Owned by rota {i}", f"https://wiki.example.com/{i}/x",
               {"dashboard": f"https://grafana/d/{i * 7}"}) for i in range(12)],
    "texts that hold the service's name as well": [
        texted(f"svc-{i:03d}", f"svc-{i:03d}: requests, rota {i % 5}", f"https://wiki.example.com/svc-{i:03d}/{i}")
        for i in range(12)],
    "texts YAML quotes and JSON escapes": [
        texted(f"svc-{i:03d}", f'Say "{i}": yes # really', f"https://wiki.example.com/#{i}") for i in range(12)],
}


@pytest.mark.parametrize("services", TEXTS.values(), ids=list(TEXTS))
def test_services_that_differ_in_texts_of_their_own_share_a_shape_and_stamp_as_in_full(services, monkeypatch):
    # Each service's texts are its own (a runbook by number): before, each was a shape of its own, rendered in full.
    model = load_text(spec(*services), "obs.yaml")
    calls = renders_stamped_as_in_full(model, monkeypatch)
    assert len(calls) < len(model.services) / 2


def test_a_text_a_generator_reads_otherwise_than_as_text_is_rendered_in_full(monkeypatch):
    # A generator that writes a description in capitals, not as it is, must not be stamped: its proofs fail.
    model = load_text(spec(*(texted(f"svc-{i:03d}", f"Rota {i}", "https://x.example.com/a") for i in range(6))),
                      "obs.yaml")
    calls = recorded_renders(monkeypatch, lambda s: s.slos[0].description.upper())
    assert extra_files(model) == {f"x/svc-{i:03d}": f"ROTA {i}" for i in range(6)}
    assert len(calls) >= 6


@pytest.mark.parametrize("annotation", ["Rota 0", "Rota 0 and on"])
def test_a_text_written_elsewhere_in_its_service_is_not_stood_in_for_there(annotation):
    # Every service's annotation is the same, and holds the first one's description: a stand-in for that description
    # would stand in the annotation too, where the others write it as it is. The first is a shape of its own where the
    # annotation is its description (the key holds both as one placeholder); where the annotation holds it, the
    # shape is one, stamped from a lead whose description is written nowhere else, or else rendered in full.
    services = [texted(f"svc-{i:03d}", f"Rota {i}", "https://x.example.com/a", {"dashboard": annotation})
                for i in range(6)]
    model = load_text(spec(*services), "obs.yaml")
    shapes = [([m.name for m in members], at) for members, at in stamp._shapes(model, stamp_fill.Renamer())]
    if annotation == "Rota 0":
        assert shapes == [(["svc-000"], ()), ([f"svc-{i:03d}" for i in range(1, 6)], (0,))]
    else:
        assert shapes == [([f"svc-{i:03d}" for i in range(6)], (0,))]
    first = dataclasses.replace(model.services[0], **stamp.UNREAD)
    assert not stamp._stands_apart(first, (0,)) and stamp._stands_apart(model.services[1], (0,))
    assert_stamped_equals_full(model)


def test_more_texts_of_their_own_than_a_shape_stands_in_for_split_it():
    # A runbook and MAX_TEXTS annotations of each service's own: one text more than a shape stands in for.
    services = [texted(f"svc-{i:03d}", "Requests", f"https://x.example.com/{i}",
                       {f"t{k}": f"x {i} {k}" for k in range(stamp_texts.MAX_TEXTS)}) for i in range(4)]
    model = load_text(spec(*services), "obs.yaml")
    assert [at for _, at in stamp._shapes(model, stamp_fill.Renamer())] == [()] * 4
    assert_stamped_equals_full(model)


def test_a_service_of_many_slos_each_with_texts_of_its_own_renders_alike_stamped_and_in_full():
    # 25 SLOs, each with a description, a runbook and an annotation: 75 texts and a name, each a placeholder in its
    # shape's key. A bound of 64 placeholders made the key's pairs uneven, and generate failed.
    slos = "".join(f"      - {{name: s{k}, description: 'd {k}', objective: 99, sli: {{availability: {{}}}}, "
                   f"alerting: {{runbook_url: 'https://x.example.com/{k}', annotations: {{a: 'v {k}'}}}}}}\n"
                   for k in range(25))
    model = load_text(spec(f"  - name: big\n    http: true\n    slos:\n{slos}"), "obs.yaml")
    assert_stamped_equals_full(model)


@pytest.mark.parametrize("text", ["https://wiki.example.com/runbooks/17", "SLO 17 of the platform", "a"])
def test_no_stand_in_of_a_text_holds_a_words_or_a_proofs_the_stamps(text):
    own = [stamp._stand_in(text, set(), a) for a in (*stamp._ALPHABETS, stamp_texts.ALPHABET)]
    for alphabet in (*stamp._PROOF_ALPHABETS, stamp_texts.PROOF_ALPHABET):
        for length in range(1, len(text) + 10):
            proof = stamp._stand_in(text[:length] if length <= len(text) else text + text[-1] * (length - len(text)),
                                    set(), alphabet)
            assert proof is None or not any(w and w in proof for w in own)
    word = stamp._stand_in(text, set(), stamp._ALPHABETS[0])
    assert word is None or word not in cast(str, stamp._stand_in(text, set(), stamp_texts.ALPHABET))


MARKS = (" ", ":", "#", "'", '"', "-", "/", ".", "{", "}", "\\", "é")


@settings(max_examples=int(os.environ.get("OBS_STAMP_TEXT_EXAMPLES", "25")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(("a", "9", *MARKS)), min_size=1, max_size=6), st.integers(3, 6), st.data())
def test_whatever_texts_the_members_of_a_shape_hold_each_gets_its_own_files(frame, members, data):
    # Members of one template whose descriptions and runbooks share their marks (so that they share a shape) and
    # differ in their letters and digits: quotes, colons and hashes that YAML quotes, quotes and backslashes that JSON
    # escapes, runs of 7s like a stand-in's. Stamped or rendered in full, each member's files are those a full render
    # makes.
    def text() -> str:
        return "".join(data.draw(st.text("abz", min_size=1, max_size=4)) if part == "a" else
                       data.draw(st.text("0179", min_size=1, max_size=3)) if part == "9" else part for part in frame)

    services = [texted(f"svc-{i:03d}", text().replace("'", "''"),
                       "https://x.example.com/" + data.draw(st.text("ab7", min_size=1, max_size=6)))
                for i in range(members)]
    assert_stamped_equals_full(load_text(spec(*services), "obs.yaml"))
