"""What the demo tests share: the manager logs in to the console the demo serves, with the
password the demo printed, and replays the complaint case's recording."""

from __future__ import annotations

import re

import aiohttp


async def manager_replays(base: str, printed: str, rid: int) -> tuple[int, int, str, int]:
    """Log in as the demo's manager with the printed password, see the complaint case, open a
    listening session on recording ``rid`` (the case's) and fetch its audio: (the case's id,
    ``rid``, the audio's content type, its size in bytes)."""
    found = re.search(r"manager demo / (\S+?);", printed)
    assert found, printed
    jar = aiohttp.CookieJar(unsafe=True)  # the console is on 127.0.0.1
    async with aiohttp.ClientSession(base, cookie_jar=jar,
                                     headers={"Origin": base.rstrip("/")}) as http:
        async with http.get("/login") as response:
            form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                                   await response.text()))  # fmt: skip
        form |= {"username": "demo", "password": found.group(1)}
        async with http.post("/login", data=form, allow_redirects=False) as response:
            assert response.status == 303
        async with http.get("/api/complaints") as response:
            [case] = (await response.json())["complaints"]
        async with http.get("/recordings") as response:
            token = re.search(r'name="csrf_token" value="([^"]+)"', await response.text())
        assert token
        async with http.post(f"/api/recordings/{rid}/listen", json={"reason": "complaint"},
                             headers={"X-CSRF-Token": token.group(1)}) as response:
            assert response.status == 200, await response.text()
            audio = (await response.json())["audio"]
        async with http.get(audio) as response:
            assert response.status == 200
            return int(case["id"]), rid, response.content_type, len(await response.read())
