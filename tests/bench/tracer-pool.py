#!/usr/bin/env python3
# gst-s2s: pools several tracer-overhead runs (tests/bench/tracer-overhead.md)
#
#   tracer-pool.py [--fl] [--kind KIND] LOG...
#
# Reads the per-child rows of each log (the output of tracer-overhead),
# takes per round the mean CPU time of the slots of kind "none" and of
# kind "s2s", or KIND (e.g. s2s-nofile: GST_TRACERS=s2s) (labels pooled; ".alt" slots, another build, left out; ".fl"
# slots, the fixed layout, only with --fl and then alone), and prints each
# run's KIND / none and the ratio of the summed CPU times over all rounds
# of all runs, with a percentile bootstrap 95 % interval that resamples
# rounds within each run (10 000 times, fixed seed).
import random
import sys


def rounds_of(path, fl, kind_wanted):
    rounds = {}
    with open(path) as f:
        for line in f:
            col = line.split()
            if len(col) < 11 or not col[0].isdigit():
                continue
            try:
                cpu = float(col[4])
            except ValueError:
                continue
            slot = col[2]
            if slot.endswith('.alt') or slot.endswith('.fl') != fl:
                continue
            kind = slot.split('.')[0]
            if kind in ('none', kind_wanted):
                rounds.setdefault(col[0], {}).setdefault(kind, []).append(cpu)
    k = kind_wanted
    return [(sum(v['none']) / len(v['none']), sum(v[k]) / len(v[k]))
            for v in rounds.values() if 'none' in v and k in v]


def ratio(pairs):
    return sum(b for _, b in pairs) / sum(a for a, _ in pairs)


def main(argv):
    usage = 'usage: tracer-pool.py [--fl] [--kind KIND] LOG...'
    fl = '--fl' in argv
    argv = [a for a in argv if a != '--fl']
    kind = 's2s'
    if '--kind' in argv:
        i = argv.index('--kind')
        if i + 1 >= len(argv):
            sys.exit(usage)
        kind = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    paths = argv
    if not paths:
        sys.exit(usage)
    runs = []
    for path in paths:
        pairs = rounds_of(path, fl, kind)
        if not pairs:
            sys.exit('%s: no round with both kinds' % path)
        runs.append(pairs)
        print('%s: %d rounds, %s / none %.4f' % (path, len(pairs), kind,
                                                ratio(pairs)))
    rng = random.Random(20261204)
    boot = []
    for _ in range(10000):
        sample = [rng.choice(r) for r in runs for _ in r]
        boot.append(ratio(sample))
    boot.sort()
    print('pooled: %s / none %.4f, bootstrap 95 %% %.4f .. %.4f '
          '(%d rounds, %d runs)' % (kind, ratio([p for r in runs for p in r]),
                                    boot[249], boot[9749],
                                    sum(len(r) for r in runs), len(runs)))


if __name__ == '__main__':
    main(sys.argv[1:])
