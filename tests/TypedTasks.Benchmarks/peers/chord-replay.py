#!/usr/bin/env python3
"""Replays one S4 chord's script calls against a redis-server run under callgrind, to count the
instructions the store's scripts take for it: counts that do not move with the machine's load,
where the harness's wall and CPU times on a shared machine move by more than a change.

1. Capture: a harness run with MONITOR on its redis-server (the harness's own child):
     SCENARIOS=S4-chord REPEATS=2 dotnet TypedTasks.Benchmarks.dll & pid=$!
     (wait for `pgrep -P $pid redis-server`, read its port) redis-cli -p <port> monitor > mon.txt
2. A server to count on:
     valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out redis-server --port 6395 --save '' &
3. chord-replay.py mon.txt 6395 <Scripts folder> [per | whole]
   loads the folder's scripts as one function library (as StoreLibrary makes it), replays every
   FCALL of the capture from an empty server up to the last chord's enqueue of CHORD_N members,
   then counts that chord's calls (the enqueue, the worker's fetches and completes, the caller's
   reads) with callgrind_control: their total, or with `per` each call on its own, summed by script
   (CG_OUT: the server's --callgrind-out-file, /tmp/cg.out by default).
   With `whole` instead of `per`, it counts every call of the capture instead: any capture, an
   S1-user run's too (SCENARIOS=S1-user REPEATS=1 BULK_N=5000: the worker's unmeasured warm-up
   runs, one to eight, are in it as well). Tasks with ids the store made
   name their queue's epoch, which a fresh server would make anew: each queue's epoch is read off
   the capture's completes and set before the first call, so that those ids resolve as they did.
Two folders (main's and a branch's) replayed the same way compare their scripts on the same calls.
"""
import glob
import os
import pickle
import re
import socket
import subprocess
import sys
import time

ESCAPES = {'n': b'\n', 'r': b'\r', 't': b'\t', 'a': b'\a', 'b': b'\b', '\\': b'\\', '"': b'"'}


def monitor_args(text):
    """The arguments of one MONITOR line, unescaped (redis quotes them as sdscatrepr does)."""
    out, i = [], 0
    while i < len(text):
        if text[i] != '"':
            i += 1
            continue
        i += 1
        buf = bytearray()
        while text[i] != '"':
            if text[i] == '\\':
                if text[i + 1] == 'x':
                    buf.append(int(text[i + 2:i + 4], 16))
                    i += 4
                else:
                    buf += ESCAPES[text[i + 1]]
                    i += 2
            else:
                buf += text[i].encode('latin-1')
                i += 1
        i += 1
        out.append(bytes(buf))
    return out


def capture(path):
    """The FCALLs of a MONITOR capture, in order (the scripts' own commands left out)."""
    calls = []
    with open(path, encoding='latin-1') as f:
        for line in f:
            m = re.match(r'^\d+\.\d+ \[\d+ ([^\]]+)\] (.*)$', line.rstrip('\n'))
            if m and m.group(1) != 'lua':
                args = monitor_args(m.group(2))
                if args and args[0].upper() == b'FCALL':
                    calls.append(args)
    return calls


def epochs(calls):
    """Each queue's epoch as the capture's completes name it (seq key -> epoch): settles of ids
    the store made (<epoch>-<seq>), seven arguments per lease after the seven shared ones."""
    found = {}
    for c in calls:
        if c[1] != b'rp_complete':
            continue
        nkeys = int(c[2])
        keys, args = c[3:3 + nkeys], c[3 + nkeys + 7:]
        for i in range(0, len(args) - 6, 7):
            m = re.match(rb'^([0-9a-z]{8})-[0-9]+$', args[i + 1])
            if m:
                found[keys[int(args[i]) - 1]] = m.group(1)
    return found


def library(folder):
    """The scripts as one function library, as StoreLibrary makes it (functions named rp_<script>)."""
    body = open(os.path.join(folder, 'shared.lua')).read()
    for name in sorted(os.listdir(folder)):
        if not name.endswith('.lua') or name == 'shared.lua':
            continue
        script = name[:-4]
        shared = script != 'register' and not script.startswith('schedule_')
        head = 'function(keys, args)\nbegin(keys, args)\n' if shared else 'function(KEYS, ARGV)\n'
        body += "\nredis.register_function('rp_" + script + "', " + head + open(os.path.join(folder, name)).read() + '\nend)\n'
    return ('#!lua name=rplib\n' + body).encode()


class Connection:
    def __init__(self, port):
        self.sock = socket.create_connection(('127.0.0.1', port))
        self.file = self.sock.makefile('rb')

    def call(self, *args):
        out = b'*%d\r\n' % len(args)
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out += b'$%d\r\n%s\r\n' % (len(a), a)
        self.sock.sendall(out)
        return self.reply()

    def reply(self):
        line = self.file.readline()
        kind = line[:1]
        if kind == b'-':
            raise RuntimeError(line.decode(errors='replace'))
        if kind == b'$':
            n = int(line[1:])
            return None if n < 0 else self.file.read(n + 2)[:-2]
        if kind == b'*':
            return [self.reply() for _ in range(max(int(line[1:]), 0))]
        return line


def counted():
    """The instructions of the last callgrind dump (removed once read)."""
    time.sleep(0.05)
    dump = max(glob.glob(os.environ.get('CG_OUT', '/tmp/cg.out') + '*'), key=os.path.getmtime)
    text = subprocess.run(['callgrind_annotate', dump], capture_output=True, text=True).stdout
    os.remove(dump)
    return int(next(l for l in text.split('\n') if 'PROGRAM TOTALS' in l).split()[0].replace(',', ''))


def main():
    mon, port, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    per = len(sys.argv) > 4 and sys.argv[4] == 'per'
    whole = len(sys.argv) > 4 and sys.argv[4] == 'whole'
    calls = [[c[0], b'rp_' + c[1].split(b'_', 2)[2]] + c[2:] for c in capture(mon)]
    chords = [i for i, c in enumerate(calls) if c[1] == b'rp_enqueue' and len(c) > 1000]
    first = 0 if whole else chords[-1]
    r = Connection(port)
    r.call('FLUSHALL')
    r.call('FUNCTION', 'FLUSH')
    r.call('FUNCTION', 'LOAD', 'REPLACE', library(folder))
    for key, epoch in epochs(calls).items():
        r.call('HSET', key, 'epoch', epoch)
    for c in calls[:first]:
        r.call(*c)
    control = lambda flag: subprocess.run(['callgrind_control', flag], capture_output=True)
    totals = {}
    if not per:
        control('-z')
    for c in calls[first:]:
        if per:
            control('-z')
        r.call(*c)
        if per:
            control('-d')
            t = totals.setdefault(c[1].decode(), [0, 0])
            t[0] += 1
            t[1] += counted()
    if not per:
        control('-d')
        print(f'{"the capture" if whole else "the chord"}: {counted():,} instructions')
    for name, (n, instr) in sorted(totals.items()):
        print(f'{name}: {n} calls, {instr:,} instructions, {instr // n:,} per call')


if __name__ == '__main__':
    main()
