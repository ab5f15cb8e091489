import pytest

from events.ingest.framing import FramingError, StreamDeframer

FILTERLOG_5424 = (
    b"<134>1 2024-06-30T12:35:10+09:00 fw filterlog 7 - - 5,,,1000000103,igb0,"
    b"match,block,in,4,0x0,,113,10251,0,none,17,udp,132,61.177.172.60,"
    b"203.0.113.7,8999,51412,112"
)
BSD = b"<134>Jun 30 12:34:56 filterlog[44812]: 4,,,1000000103,igb0,match"


def counted(message: bytes) -> bytes:
    return str(len(message)).encode() + b" " + message


def test_octet_counted_frames_back_to_back_split_in_two():
    deframer = StreamDeframer()

    messages = deframer.feed(counted(FILTERLOG_5424) * 2)

    assert messages == [FILTERLOG_5424, FILTERLOG_5424]


def test_octet_counted_frame_split_across_segments_inside_the_length():
    stream = counted(FILTERLOG_5424)
    deframer = StreamDeframer()

    first = deframer.feed(stream[:1])
    second = deframer.feed(stream[1:50])
    third = deframer.feed(stream[50:])

    assert (first, second, third) == ([], [], [FILTERLOG_5424])


@pytest.mark.parametrize("trailer", [b"\n", b"\r\n", b"\x00", b"\x00\n"])
def test_lf_framing_strips_each_kind_of_trailer(trailer):
    deframer = StreamDeframer()

    messages = deframer.feed(BSD + trailer + BSD + trailer)

    assert messages == [BSD, BSD]


@pytest.mark.parametrize(
    "message",
    [
        b"2024/06/30 12:34:56: PP[01] Rejected at IN(1012) filter: TCP "
        b"192.0.2.1:4000 > 203.0.113.10:23",
        b"4,,,1000000103,igb0,match,block,in,4,0x0,,64,1,0,none,6,tcp,40,"
        b"192.0.2.1,203.0.113.1,1,23,0,S,1,,1024,,",
        b"12 monkeys <not a count",
    ],
    ids=["yamaha-export", "headerless-csv", "digits-then-space"],
)
def test_message_starting_with_digits_is_not_a_length_prefix(message):
    deframer = StreamDeframer()

    assert deframer.feed(message + b"\n") == [message]


def test_counted_and_lf_frames_mix_on_one_connection():
    deframer = StreamDeframer()

    messages = deframer.feed(counted(FILTERLOG_5424) + BSD + b"\n")

    assert messages == [FILTERLOG_5424, BSD]


def test_one_byte_at_a_time_gives_the_same_frames():
    stream = counted(FILTERLOG_5424) + BSD + b"\n" + counted(BSD)
    deframer = StreamDeframer()

    messages = []
    for index in range(len(stream)):
        messages += deframer.feed(stream[index : index + 1])

    assert messages == [FILTERLOG_5424, BSD, BSD]


def test_absurd_octet_count_ends_framing_after_the_frames_before_it():
    deframer = StreamDeframer(max_bytes=65_536)
    bad = b"99999999 <134>Jun 30 12:34:56 x\n"

    messages = deframer.feed(BSD + b"\n" + BSD + b"\n" + bad + BSD + b"\n")

    assert messages == [BSD, BSD]
    assert isinstance(deframer.error, FramingError)
    assert bytes(deframer.buffer) == bad + BSD + b"\n"
    assert deframer.feed(BSD + b"\n") == []
    assert deframer.finish() == []


def test_oversize_lf_frame_is_cut_and_the_next_frame_is_whole():
    deframer = StreamDeframer(max_bytes=100)

    messages = deframer.feed(b"<134>" + b"x" * 300)
    messages += deframer.feed(b"y" * 50 + b"\n" + BSD + b"\n")

    assert messages == [BSD]
    assert deframer.truncated == [(b"<134>" + b"x" * 300)[:100]]


def test_frame_without_trailer_is_returned_when_the_peer_closes():
    deframer = StreamDeframer()

    assert deframer.feed(BSD) == []
    assert deframer.finish() == [BSD]
