"""Seqs started out of key order in a --record file.

usage: key_order.py RECORD KEYS [CUT] [--reruns]

The key of a seq is what `rill produce --keys KEYS` gives it
(apps/rill/load_generator.hpp: splitmix64(seq) % KEYS). With CUT, the lines
up to CUT (a run before a kill) and after it (the restart, which re-runs what
was in flight) are checked each on their own. Prints the number of seqs that
started at or below an earlier seq of the same key in the same run. With
--reruns, a seq recorded again right after itself (its worker node died
before its ack: the key stayed held until it ran again) is not counted.
"""
import sys

MASK = (1 << 64) - 1


def seq_hash(seq):
    z = (seq + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def main():
    args = [a for a in sys.argv[1:] if a != "--reruns"]
    reruns = "--reruns" in sys.argv[1:]
    path, keys = args[0], int(args[1])
    cut = int(args[2]) if len(args) > 2 else None
    last = {}
    bad = 0
    with open(path) as f:
        for n, line in enumerate(f, 1):
            seq = int(line)
            part = 1 if cut is None or n <= cut else 2
            k = (part, seq_hash(seq) % keys)
            if k in last and (seq < last[k] or (seq == last[k] and not reruns)):
                bad += 1
            last[k] = seq
    print(bad)


main()
