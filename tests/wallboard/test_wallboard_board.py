"""The wallboard's model: queue waits, answered and abandoned counts, extension states (pure)."""

from __future__ import annotations

from datetime import date

from py3cx.callcontrol import CallParticipant, CallState, DNInfo
from py3cx.wallboard import Board
from py3cx.wallboard.startup import StartingPoint


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def setup_board() -> tuple[Board, CallState, Clock]:
    state = CallState()
    state.load(
        [
            DNInfo(dn="0336", type="Wqueue"),
            DNInfo(dn="100", type="Wextension"),
            DNInfo(dn="101", type="Wextension"),
        ]
    )
    clock = Clock()
    return Board(state, clock=clock, today=lambda: date(2026, 1, 5)), state, clock


def leg(pid: int, dn: str, status: str, callid: int, **extra: object) -> CallParticipant:
    return CallParticipant(id=pid, dn=dn, status=status, callid=callid, party_caller_id="+441", **extra)


def feed(board: Board, state: CallState, participant: CallParticipant) -> None:
    event = state.upsert_participant(participant.dn or "", participant)
    assert event is not None
    board.apply(event)


def remove(board: Board, state: CallState, dn: str, pid: int) -> None:
    board.apply(state.remove_participant(dn, pid))


def queue(board: Board) -> dict[str, object]:
    return board.snapshot()["queues"][0]  # type: ignore[no-any-return]


def test_a_waiting_caller_shows_with_the_time_it_started_waiting() -> None:
    board, state, clock = setup_board()
    feed(board, state, leg(1, "0336", "Ringing", 7))
    clock.now += 30
    feed(board, state, leg(2, "0336", "Ringing", 8))
    expected = {"waiting": 2, "talking": 0, "longest_wait_since": 1_000.0, "answered": 0, "abandoned": 0}
    assert queue(board) == {"dn": "0336", "name": None, **expected}


def test_an_agent_connecting_counts_the_queue_call_as_answered_once() -> None:
    board, state, _ = setup_board()
    feed(board, state, leg(1, "0336", "Ringing", 7))
    feed(board, state, leg(2, "100", "Ringing", 7, on_behalf_of_dn="0336"))
    remove(board, state, "0336", 1)  # the queue hands the call over before the agent's upsert lands
    feed(board, state, leg(2, "100", "Connected", 7, on_behalf_of_dn="0336"))
    feed(board, state, leg(2, "100", "Connected", 7, on_behalf_of_dn="0336", party_caller_name="Ann"))
    assert (queue(board)["answered"], queue(board)["talking"], queue(board)["waiting"]) == (1, 1, 0)
    remove(board, state, "100", 2)
    assert (queue(board)["answered"], queue(board)["abandoned"], queue(board)["talking"]) == (1, 0, 0)


def test_a_call_that_ends_in_the_queue_is_abandoned() -> None:
    board, state, _ = setup_board()
    feed(board, state, leg(1, "0336", "Ringing", 7))
    feed(board, state, leg(2, "101", "Ringing", 7, on_behalf_of_dn="0336"))
    remove(board, state, "101", 2)
    assert queue(board)["abandoned"] == 0  # the caller is still waiting
    remove(board, state, "0336", 1)
    assert (queue(board)["abandoned"], board.snapshot()["totals"]["abandoned"]) == (1, 1)


def test_counts_start_again_at_midnight() -> None:
    board, state, _ = setup_board()
    feed(board, state, leg(1, "0336", "Ringing", 7))
    remove(board, state, "0336", 1)
    assert queue(board)["abandoned"] == 1
    board.today = lambda: date(2026, 1, 6)
    assert queue(board)["abandoned"] == 0


def test_extensions_show_their_busiest_leg_and_calls_list_the_live_calls() -> None:
    board, state, clock = setup_board()
    feed(board, state, leg(1, "100", "Ringing", 7))
    clock.now += 5
    feed(board, state, leg(1, "100", "Connected", 7, party_caller_name="Ann"))
    feed(board, state, leg(2, "100", "Ringing", 8))
    picture = board.snapshot()
    assert picture["extensions"][0] == {
        "dn": "100",
        "status": "talking",
        "party": "Ann",
        "since": 1_005.0,
        "calls": 2,
    }
    assert picture["extensions"][1]["status"] == "idle"
    assert [c["Id"] for c in picture["calls"]] == [7, 8]
    assert picture["totals"]["talking"] == 1


def test_a_seeded_board_starts_from_today_so_far_and_the_real_start_of_calls() -> None:
    board, state, clock = setup_board()
    board.seed(StartingPoint(date(2026, 1, 5), established={7: 400.0}, counts={"0336": (12, 3)}))
    event = state.resync_dn(DNInfo(dn="100", type="Wextension", participants=[leg(1, "100", "Connected", 7)]))
    for each in event:
        board.apply(each)
    picture = board.snapshot()
    assert (queue(board)["answered"], queue(board)["abandoned"]) == (12, 3)
    assert picture["extensions"][0]["since"] == 400.0 and picture["calls"][0]["EstablishedAt"].endswith(
        ":06:40.000Z"
    )
    clock.now += 10
    feed(board, state, leg(2, "100", "Ringing", 8))  # a call seen later counts from when it was seen
    assert [c["EstablishedAt"][-10:] for c in board.snapshot()["calls"]] == ["06:40.000Z", "16:50.000Z"]
    board.today = lambda: date(2026, 1, 6)
    assert (queue(board)["answered"], queue(board)["abandoned"]) == (0, 0)
