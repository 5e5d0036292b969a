"""How strong a new password must be: zxcvbn's estimate, not rules about character classes.

``12345678`` and ``password`` are long enough and still among the first
guesses of any attacker; zxcvbn scores them 0. A password is accepted from
:data:`MIN_SCORE` ("safely unguessable") up, judged with the username and
e-mail as known words, and a refusal says why in zxcvbn's own words.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

#: zxcvbn's scale: 0 too guessable ... 4 very unguessable. 3 withstands an offline attack on a slow hash.
MIN_SCORE = 3
#: zxcvbn's own bound on what it evaluates (its cost grows with length); longer passwords are
#: judged by their first characters, which can only underestimate them.
_EVALUATED = 72


def weakness(password: str, user_inputs: list[str] = ()) -> str | None:
    """Why *password* is too weak, or None when it is strong enough."""
    result = zxcvbn(password[:_EVALUATED], user_inputs=[u for u in user_inputs if u])
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result.get("feedback") or {}
    parts = [feedback.get("warning") or "This password is too easy to guess.", *feedback.get("suggestions", [])]
    return " ".join(p.strip() for p in parts if p and p.strip()) + \
        " Try a few unrelated words, or a password manager's suggestion."
