"""Valid wire pieces for the four byte parsers, and pieces sized at and around each limit.

The seed of the chunking property test and of the fuzz benchmark: the AMI frames of the
recorded fixture (``tests/unit/ami/fixtures/queue_call.ami``), a FastAGI environment and the
reply shapes res_agi sends, queue_log lines of an answered call, and the Event Socket messages
of the recorded FreeSWITCH transcripts (``tests/data/freeswitch``) that fit the small limits.
Limits are small so that byte-by-byte feeding stays cheap and every limit is reached often;
the parsers take them as parameters, and the rule under test (same bytes, same outcome) does
not depend on their size.
"""

from __future__ import annotations

from pathlib import Path

from esl_transcripts import NAMES, server_bytes

from clinicall.controller.freeswitch.esl.protocol import EslParser

FIXTURE = Path(__file__).parent / "unit" / "ami" / "fixtures" / "queue_call.ami"

AMI_MAX_FRAME = 512
AGI_ENV_LIMIT = 600
AGI_LINE_LIMIT = 96
AGI_USAGE_LIMIT = 256
QUEUE_LOG_MAX_BYTES = 96
ESL_MAX_HEADER = 400
ESL_MAX_BODY = 700


def _ami_corpus() -> tuple[bytes, ...]:
    data = FIXTURE.read_bytes()
    banner, _, frames = data.partition(b"\r\n")
    pieces = [banner + b"\r\n"]
    pieces += [frame + b"\r\n\r\n" for frame in frames.split(b"\r\n\r\n") if frame]
    pieces += [
        b"Response: Follows\r\nPrivilege: Command\r\nActionID: 7\r\n"
        b"line one\nline: two\n--END COMMAND--\r\n\r\n",
        b"Response: Follows\r\nActionID: 8\r\n\r\nstill output\r\n\r\n--END COMMAND--\r\n\r\n",
        b"Response: Success\nActionID: 9\nPing: Pong\n\n",
        b"Event: VarSet\r\nUniqueid: 1.1\r\nValue:\r\n\r\n",
        b"\r\n\r\n\n",
    ]
    return tuple(pieces)


AMI_CORPUS = _ami_corpus()
AMI_BANNER = AMI_CORPUS[0]


def ami_sized(size: int, *, lf_only: bool = False) -> bytes:
    """A frame whose bytes (without its blank line) number exactly ``size`` (≥ 12)."""
    head = b"Event: Pad\nP: " if lf_only else b"Event: Pad\r\nP: "
    end = b"\n\n" if lf_only else b"\r\n\r\n"
    return head + b"x" * (size - len(head)) + end


def ami_sized_banner(size: int) -> bytes:
    """A banner line of exactly ``size`` bytes before its CRLF."""
    prefix = b"Asterisk Call Manager/"
    return prefix + b"9" * (size - len(prefix)) + b"\r\n"


def ami_limit_pieces(limit: int = AMI_MAX_FRAME) -> tuple[bytes, ...]:
    """Frames, follows outputs and banners sized limit-2 .. limit+2 (and their halves)."""
    pieces: list[bytes] = []
    for size in range(limit - 2, limit + 3):
        pieces += [ami_sized(size), ami_sized(size, lf_only=True), ami_sized_banner(size)]
        head = b"Response: Follows\r\n"
        pieces.append(head + b"o" * (size - len(head) - 17) + b"\n--END COMMAND--\r\n\r\n")
        pieces.append(b"\r\n" * 3 + ami_sized(size))  # blank lines before a frame
    return tuple(pieces)


AGI_ENVIRONMENT = (
    b"agi_network: yes\nagi_network_script: ivr\nagi_request: agi://127.0.0.1:4573/ivr\n"
    b"agi_channel: PJSIP/trunk-00000001\nagi_language: uk\nagi_type: PJSIP\n"
    b"agi_uniqueid: 1712345678.1\nagi_version: 22.10.1\nagi_callerid: 380501234567\n"
    b"agi_calleridname: \xd0\x9e\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xb0\nagi_callingpres: 0\n"
    b"agi_dnid: 0800300300\nagi_rdnis: unknown\nagi_context: clinicall-in\n"
    b"agi_extension: s\nagi_priority: 2\nagi_enhanced: 0.0\nagi_accountcode: \n"
    b"agi_threadid: 140254\nagi_arg_1: uk\n\n"
)
AGI_REPLIES = (
    b"200 result=0 endpos=64000\n",
    b"200 result=1\n",
    b"200 result=*12 (timeout)\n",
    b"200 result=1 (\xd0\x9e\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xb0)\r\n",
    b"200 result=-1\n",
    b"HANGUP\n",
    b"510 Invalid or unknown command\n",
    b"511 Command Not Permitted on a dead channel or intercept routine\n",
    b"520-Invalid command syntax.  Proper usage follows:\n"
    b"Usage: STREAM FILE <filename> <escape digits>\n520 End of proper usage.\n",
    b"\n",
)
AGI_CORPUS = (AGI_ENVIRONMENT, *AGI_REPLIES)


def agi_sized_environment(size: int) -> bytes:
    """An environment block of exactly ``size`` bytes, its blank line included (≥ 26)."""
    head = b"agi_request: a\nagi_pad: "
    return head + b"p" * (size - len(head) - 2) + b"\n\n"


def agi_limit_pieces(
    env_limit: int = AGI_ENV_LIMIT,
    line_limit: int = AGI_LINE_LIMIT,
    usage_limit: int = AGI_USAGE_LIMIT,
) -> tuple[bytes, ...]:
    """Environment blocks, reply lines and 520 usage messages sized limit-2 .. limit+2."""
    pieces: list[bytes] = []
    for delta in range(-2, 3):
        pieces.append(agi_sized_environment(env_limit + delta))
        line = line_limit + delta  # bytes before the newline
        pieces += [b"200 result=1 (" + b"d" * (line - 16) + b")\n"]
        pieces += [b"200 result=1 (" + b"d" * (line - 17) + b")\r\n"]
        opening, closing = b"520-Usage\n", b"520 End of proper usage.\n"
        body = usage_limit + delta - len(opening) - len(closing)
        pieces.append(opening + b"u" * (body - 1) + b"\n" + closing)
    return tuple(pieces)


QUEUE_LOG_CORPUS = (
    b"1700000000|NONE|NONE|NONE|QUEUESTART|\n",
    b"1700000001|NONE|cardiology|PJSIP/op1|ADDMEMBER|\n",
    b"1700000009|1700000005.12|cardiology|NONE|CLINICALL|1700000005.12|queued|uk|main|1|3805|0800\n",
    b"1700000010|1700000005.12|cardiology|NONE|ENTERQUEUE||380441234567|1\n",
    b"1700000025|1700000005.12|cardiology|PJSIP/op2|RINGNOANSWER|15000\n",
    b"1700000030|1700000005.12|cardiology|PJSIP/op1|CONNECT|20|1700000030.15|3\n",
    b"1700000090|1700000005.12|cardiology|PJSIP/op1|COMPLETECALLER|20|60|1\r\n",
    b"1700000091|NONE|cardiology|PJSIP/op1|PAUSE|\xd0\xbe\xd0\xb1\xd1\x96\xd0\xb4\n",
    b"1700000092|1700000006.1|therapy|NONE|ABANDON|1|1|30\n",
    b"\n",
)


def queue_log_sized(size: int) -> bytes:
    """A DID line of exactly ``size`` bytes before its newline (≥ 30)."""
    head = b"1700000010|1.1|q|NONE|DID|"
    return head + b"9" * (size - len(head)) + b"\n"


def queue_log_limit_pieces(max_bytes: int = QUEUE_LOG_MAX_BYTES) -> tuple[bytes, ...]:
    pieces: list[bytes] = []
    for size in range(max_bytes - 3, max_bytes + 3):  # with its newline: limit-2 .. limit+2
        line = queue_log_sized(size)
        pieces += [line, line[:-1] + b"\r\n"]
    return tuple(pieces)


def _esl_corpus() -> tuple[bytes, ...]:
    """Each recorded message whose header block and body fit the small limits (the short
    replies, api outputs, notices and BACKGROUND_JOB), plus the shapes no transcript has."""
    pieces: dict[bytes, None] = {}
    for name in NAMES:
        stream = server_bytes(name)
        for message in EslParser().feed(stream):
            head = "".join(f"{k}: {v}\n" for k, v in message.headers).encode() + b"\n"
            whole = head + message.body
            if (len(head) <= ESL_MAX_HEADER and len(message.body) <= ESL_MAX_BODY
                    and whole in stream):  # fmt: skip
                pieces[whole] = None
    pieces[
        b"Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n"
    ] = None
    json_job = b'{"Event-Name":"BACKGROUND_JOB","Content-Length":"4","_body":"+OK\\n"}'
    pieces[b"Content-Length: 63\nContent-Type: text/event-json\n\n" + json_job] = None
    plain_dtmf = b"Event-Name: DTMF\nUnique-ID: u%201\nDTMF-Digit: %23\nContent-Length: 2\n\nok"
    pieces[b"Content-Length: 61\nContent-Type: text/event-plain\n\n" + plain_dtmf] = None
    return tuple(pieces)


ESL_CORPUS = _esl_corpus()


def esl_sized_block(size: int) -> bytes:
    """A header block of exactly ``size`` bytes (without its blank line), no body (≥ 30)."""
    head = b"Content-Type: command/reply\nPad: "
    return head + b"x" * (size - len(head)) + b"\n\n"


def esl_sized_body(size: int) -> bytes:
    """An api/response with a body of exactly ``size`` bytes."""
    return (
        b"Content-Type: api/response\nContent-Length: %d\n\n" % size
        + b"b\n" * (size // 2)
        + b"b" * (size % 2)
    )


def esl_limit_pieces(
    max_header: int = ESL_MAX_HEADER, max_body: int = ESL_MAX_BODY
) -> tuple[bytes, ...]:
    """Header blocks and bodies sized limit-2 .. limit+2."""
    pieces: list[bytes] = []
    for delta in range(-2, 3):
        pieces += [esl_sized_block(max_header + delta), esl_sized_body(max_body + delta)]
        pieces.append(b"\n" * 3 + esl_sized_block(max_header + delta))
    return tuple(pieces)
