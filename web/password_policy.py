"""The password policy for people (not API tokens): at least 12 characters, not one of the
most common passwords, not the user's own name, and not a run of one character or a keyboard
or digit sequence.  A long passphrase ("four words of a song") passes; "password1234" does
not.  The common list is the head of the well-known leaked-password rankings at 12+
characters plus their usual padding; the sequences catch the rest of that family."""

from __future__ import annotations

MIN_LENGTH = 12

COMMON = frozenset({
    "123456789012", "1234567890123", "12345678901234", "123456789123", "111111111111",
    "000000000000", "123123123123", "password1234", "password12345", "password123456",
    "passwordpassword", "qwertyuiop12", "qwertyuiopas", "qwertyuiopasdf", "1q2w3e4r5t6y",
    "1qaz2wsx3edc", "qazwsxedcrfv", "zaq12wsxcde3", "iloveyou1234", "iloveyouiloveyou",
    "asdfghjkl123", "asdfghjklqwe", "abcdefghijkl", "abc123abc123", "welcome12345",
    "welcome123456", "letmein12345", "administrator", "admin1234567", "adminadmin12",
    "changeme1234", "sunshine1234", "princess1234", "football1234", "baseball1234",
    "monkey123456", "dragon123456", "michael12345", "superman1234", "trustno11234",
    "starwars1234", "whatever1234", "master123456", "qwerty123456", "qwertyqwerty",
    "passw0rd1234", "p@ssw0rd1234", "p@ssword1234", "1234qwerasdf", "1234567890qw",
    "9876543210ab", "987654321987", "147258369147", "0987654321qw", "hello1234567",
    "computer1234", "internet1234", "clinicall123", "clinicall1234", "medicalcenter",
    "likar1234567", "parol1234567", "parolparol12", "йцукенгшщзхї", "йцукенгшщзхъ",
})
SEQUENCES = ("01234567890", "09876543210", "qwertyuiopasdfghjklzxcvbnm",
             "abcdefghijklmnopqrstuvwxyz", "йцукенгшщзхїфівапролджєячсмитьбю",
             "йцукенгшщзхъфывапролджэячсмитьбю")


def policy_problem(password: str, username: str = "") -> str | None:
    """What is wrong with ``password`` under the policy (a key of the console's catalogue,
    web/i18n.py, whose text takes ``n`` = MIN_LENGTH), or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return "pw_short"
    folded = password.casefold()
    if folded in COMMON:
        return "pw_common"
    if username and username.casefold() in folded:
        return "pw_name"
    if len(set(folded)) <= 2:
        return "pw_few"
    if any(folded in seq for seq in SEQUENCES):
        return "pw_sequence"
    return None
