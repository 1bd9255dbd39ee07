"""wrk runs: generated Lua scripts (and the same requests built in Python), output parsing, CPU
and memory of the server processes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")

LUA_COMMON = r"""
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  nthreads = tonumber(args[1]) or 1
  n = 0
  bad = 0
  seen = 0
end
function request()
  local i = OFFSET + n * nthreads + tid
  n = n + 1
  return build(i)
end
local CODES = {301, 302, 303, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503}
function response(status, headers, body)
  seen = seen + 1
  if status < 200 or status >= 300 then
    bad = bad + 1
    local key = "s" .. status
    _G[key] = (_G[key] or 0) + 1
    if first_bad == nil then  -- what the first refusal said, for the log
      first_bad = status .. " " .. string.gsub(string.sub(body or "", 1, 300), "%s+", " ")
    end
  end
end
function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + (t:get("bad") or 0) end
  io.write(string.format("BENCH_BAD %d\n", b))
  local parts = {}
  for _, code in ipairs(CODES) do
    local c = 0
    for _, t in ipairs(threads) do c = c + (t:get("s" .. code) or 0) end
    if c > 0 then table.insert(parts, code .. "=" .. c) end
  end
  io.write("BENCH_STATUS " .. table.concat(parts, " ") .. "\n")
  for _, t in ipairs(threads) do
    local fb = t:get("first_bad")
    if fb then io.write("BENCH_FIRST_BAD " .. fb .. "\n") end
  end
  -- the first request index no thread used: threads progress unevenly, so the number of
  -- requests answered does not tell where the next run may start without reusing an index
  local m = 0
  for _, t in ipairs(threads) do
    local tn = t:get("n") or 0
    if tn > m then m = tn end
  end
  io.write(string.format("BENCH_NEXT %d\n", OFFSET + m * #threads))
  io.write(string.format("BENCH_LAT %.1f %.1f %.1f\n",
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


def lua_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def lua_list(items: list[Any]) -> str:
    return "{" + ",".join(lua_str(x) if isinstance(x, str) else str(x) for x in items) + "}"


def lua_headers(headers: dict[str, str]) -> str:
    return "{" + ",".join(f"[{lua_str(k)}]={lua_str(v)}" for k, v in headers.items()) + "}"


def builder(name: str, spec: dict[str, Any], prefix: str) -> str:
    """Lua defining ``build_<name>(i)``: the i-th request of a path."""
    if spec["kind"] == "get":
        return (
            f"local urls_{name} = {lua_list(spec['urls'])}\n"
            f"local hdr_{name} = {lua_headers(spec['headers'])}\n"
            f"function build_{name}(i)\n"
            f"  return wrk.format('GET', urls_{name}[(i % #urls_{name}) + 1], hdr_{name})\n"
            "end\n"
        )
    if spec["kind"] == "booking":
        return (
            f"local tok_{name} = {lua_list(spec['tokens'])}\n"
            f"local rns_{name} = {lua_list(spec['rns'])}\n"
            f"local slots_{name} = {lua_list(spec['slots'])}\n"
            f"function build_{name}(i)\n"
            f"  local p = i % #rns_{name}\n"
            f"  local j = math.floor(i / #rns_{name}) % #slots_{name}\n"
            f'  local body = string.format(\'{{"slot_id":%d,"detainee":"%s"}}\', '
            f"slots_{name}[j + 1], rns_{name}[p + 1])\n"
            f"  return wrk.format('POST', {lua_str(spec['path'])}, "
            f"{{['Authorization']='Bearer ' .. tok_{name}[p + 1], "
            "['Content-Type']='application/json'}, body)\n"
            "end\n"
        )
    if spec["kind"] == "deposit":
        return (
            f"local rns_{name} = {lua_list(spec['rns'])}\n"
            f"function build_{name}(i)\n"
            f"  local rn = rns_{name}[(i % #rns_{name}) + 1]\n"
            f"  return wrk.format('POST', '/api/v1/funds/accounts/' .. rn .. '/deposits', "
            f"{{['Authorization']={lua_str('Bearer ' + spec['token'])}, "
            f"['Content-Type']='application/json', "
            f"['Idempotency-Key']={lua_str(prefix)} .. '-' .. i}}, {lua_str(spec['body'])})\n"
            "end\n"
        )
    raise ValueError(spec["kind"])


def script(names: list[str], specs: dict[str, dict[str, Any]], offset: int, prefix: str) -> str:
    parts = [f"OFFSET = {offset}\n"]
    parts += [builder(n, specs[n], prefix) for n in names]
    if len(names) == 1:
        parts.append(f"build = build_{names[0]}\n")
    else:  # a mix: request i is path i % k, its (i // k)-th request
        table = "{" + ",".join(f"build_{n}" for n in names) + "}"
        parts.append(
            f"local mix = {table}\n"
            "function build(i) return mix[(i % #mix) + 1](math.floor(i / #mix)) end\n"
        )
    return "".join(parts) + LUA_COMMON


def nth_request(spec: dict[str, Any], i: int, key_prefix: str) -> tuple[str, str, dict, bytes]:
    """The i-th request of a path, as the Lua scripts build it (method, url, headers, body)."""
    if spec["kind"] == "get":
        return "GET", spec["urls"][i % len(spec["urls"])], dict(spec["headers"]), b""
    if spec["kind"] == "booking":
        p = i % len(spec["rns"])
        j = (i // len(spec["rns"])) % len(spec["slots"])
        body = json.dumps({"slot_id": spec["slots"][j], "detainee": spec["rns"][p]})
        headers = {
            "Authorization": f"Bearer {spec['tokens'][p]}",
            "Content-Type": "application/json",
        }
        return "POST", spec["path"], headers, body.encode()
    rn = spec["rns"][i % len(spec["rns"])]
    headers = {
        "Authorization": f"Bearer {spec['token']}",
        "Content-Type": "application/json",
        "Idempotency-Key": f"{key_prefix}-{i}",
    }
    return "POST", f"/api/v1/funds/accounts/{rn}/deposits", headers, spec["body"].encode()


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    bad: int  # non-2xx responses (wrk's own count treats 3xx as fine; ours does not)
    socket_errors: int
    raw: str
    next_index: int = 0  # the first request index (``i``) no thread of the run used
    statuses: str = ""  # the non-2xx answers by status, e.g. "409=3 422=1"
    first_bad: list[str] = field(default_factory=list)  # each thread's first refusal


def parse(out: str) -> WrkResult:
    def num(pattern: str, default: float = 0.0) -> float:
        m = re.search(pattern, out)
        return float(m.group(1)) if m else default

    m = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out)
    if not m:
        raise ValueError(f"unexpected wrk output:\n{out}")
    seconds = float(m.group(2)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[m.group(3)]
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    lat = re.search(r"BENCH_LAT ([\d.]+) ([\d.]+) ([\d.]+)", out)
    return WrkResult(
        requests=int(m.group(1)),
        seconds=seconds,
        rps=num(r"Requests/sec:\s+([\d.]+)"),
        p50_ms=float(lat.group(1)) / 1000 if lat else float("nan"),
        p99_ms=float(lat.group(2)) / 1000 if lat else float("nan"),
        mean_ms=float(lat.group(3)) / 1000 if lat else float("nan"),
        bad=int(num(r"BENCH_BAD (\d+)")),
        socket_errors=sum(int(x) for x in errors.groups()) if errors else 0,
        raw=out,
        next_index=int(num(r"BENCH_NEXT (\d+)")),
        statuses=(re.search(r"BENCH_STATUS ([^\n]*)", out) or [None, ""])[1].strip(),
        first_bad=re.findall(r"BENCH_FIRST_BAD ([^\n]*)", out),
    )


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    cmd = ["apt-get", "install", "-y", "wrk"]
    if os.geteuid() != 0 and shutil.which("sudo"):
        cmd = ["sudo", *cmd]
    subprocess.run(cmd, check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed and apt-get could not install it")
    return found


def run_wrk(
    url: str,
    lua: str,
    lua_path: Path,
    *,
    connections: int,
    seconds: float,
    threads: int = 2,
) -> WrkResult:
    lua_path.write_text(lua, encoding="utf-8")
    threads = min(threads, connections)
    cmd = [
        ensure_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(lua_path),
        url,
        "--",
        str(threads),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 120)
    return parse(out.stdout + out.stderr)


# --------------------------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and int(fields[1]) == pid:
                out.append(int(entry.name))
    return sorted(out)


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")
