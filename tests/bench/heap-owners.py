#!/usr/bin/env python3
"""Live heap of a massif run, summed by owner (docs/performance.md).

    heap-owners.py massif.out.A [massif.out.B --per N]

Takes the last detailed snapshot of each file (run massif with
--threshold=0 --detailed-freq=1 --depth=40 so that it is complete), walks
every allocation path from the allocation site outwards past the generic
allocators (malloc, g_malloc, GArray, GObject construction...) and charges
the bytes to the first frame that says who holds them. With two files (the
same program at two loads), prints B minus A divided by --per: the heap per
added conversation.
"""
import re
import sys
from collections import defaultdict

GENERIC = re.compile(
    r"^(malloc|calloc|realloc|memalign|posix_memalign|aligned_alloc|"
    r"operator new|__libc_|_int_|g_malloc|g_malloc0|g_realloc|g_try_|"
    r"g_slice_|g_memdup|g_strdup|g_strndup|g_strconcat|g_strdup_printf|"
    r"g_strdup_vprintf|g_vasprintf|g_new|g_array_|g_byte_array_|"
    r"g_ptr_array_|g_string_|g_hash_table_|g_bytes_|g_list_|g_slist_|"
    r"g_queue_|g_type_create_instance|g_object_new|g_object_new_valist|"
    r"g_object_new_with_properties|g_object_newv|g_initable_new|"
    r"g_async_initable_|g_closure_|g_signal_connect|g_cclosure_|"
    r"g_datalist_|g_data_set|g_object_set_data|g_object_set_qdata|"
    r"g_param_spec_|g_value_|g_once|g_private_|g_get_charset|"
    r"g_mutex_|g_rec_mutex_|g_cond_|g_error_new|g_set_error|"
    r"gst_mini_object_init|_sysmalloc|sysmalloc|tcache_init|"
    r"g_slice_alloc|magazine_|slab_|allocator_|thread_memory_)")

OWNERS = [
    ("TLS (GnuTLS, glib-networking)", r"gnutls|tasn1|nettle|g_tls_|_tls_|"
     r"GTlsConnection|hogweed|gmp"),
    ("WebSocket client (gsts2sws.c)", r"gst_s2s_ws|on_readable|writer_|"
     r"rbuf_|ws_frame|on_connected|handle_frames|gsts2sws"),
    ("the element (s2s base/openai)", r"gst_s2s|s2s_|openai"),
    ("json-glib", r"json_"),
    ("libsoup", r"soup_"),
    ("GIO sockets, resolver, proxy", r"g_socket|g_resolver|g_network|"
     r"g_inet|g_proxy|g_tcp|g_unix|g_pollable|g_simple_proxy|"
     r"g_task|g_cancellable"),
    ("GLib main loop, threads", r"g_main_|g_source_|g_thread|g_timeout|"
     r"g_idle|pthread|allocate_stack|_dl_|g_wakeup|g_poll"),
    ("GStreamer", r"gst_|_gst"),
    ("bench driver", r"^main$|bench|feed|push_chunk|appsrc"),
]


def parse(path):
    """(last detailed snapshot's tree as [(depth, bytes, func)], total)"""
    snaps = []
    cur = None
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("snapshot="):
                cur = {"tree": [], "heap": 0}
                snaps.append(cur)
            elif line.startswith("mem_heap_B=") and cur is not None:
                cur["heap"] = int(line.split("=")[1])
            elif cur is not None and re.match(r"^\s*n\d+:", line):
                depth = len(line) - len(line.lstrip(" "))
                m = re.match(r"^\s*n(\d+): (\d+) (.*)$", line.rstrip("\n"))
                text = m.group(3)
                fm = re.match(r"0x[0-9A-Fa-f]+: (.*?) \(", text)
                func = fm.group(1) if fm else text
                cur["tree"].append((depth, int(m.group(2)), int(m.group(1)),
                                    func))
    det = [s for s in snaps if s["tree"]]
    if not det:
        sys.exit("%s: no detailed snapshot" % path)
    return det[-1]


def owners(snap):
    """bytes per owner, and per (owner, first telling frame)"""
    tot = defaultdict(int)
    site = defaultdict(int)
    stack = []
    tree = snap["tree"]
    for i, (depth, nbytes, nkids, func) in enumerate(tree):
        while stack and stack[-1][0] >= depth:
            stack.pop()
        stack.append((depth, func))
        if nkids != 0 or depth == 0:
            continue
        # a leaf: the path from the allocation site (depth 1) outwards
        path = [fn for _, fn in stack[1:]]
        owner, frame = "other", path[0] if path else "?"
        for fn in path:
            if "below massif's threshold" in fn or "in " in fn and \
                    "places" in fn:
                continue
            if GENERIC.match(fn):
                continue
            for name, pat in OWNERS:
                if re.search(pat, fn):
                    owner, frame = name, fn
                    break
            else:
                continue
            break
        tot[owner] += nbytes
        site[(owner, frame)] += nbytes
    return tot, site


def main():
    args = sys.argv[1:]
    per = 1
    if "--per" in args:
        i = args.index("--per")
        per = float(args[i + 1])
        del args[i:i + 2]
    a = parse(args[0])
    ta, sa = owners(a)
    if len(args) > 1:
        b = parse(args[1])
        tb, sb = owners(b)
        keys = set(ta) | set(tb)
        tot = {k: (tb.get(k, 0) - ta.get(k, 0)) / per for k in keys}
        skeys = set(sa) | set(sb)
        site = {k: (sb.get(k, 0) - sa.get(k, 0)) / per for k in skeys}
        heap = (b["heap"] - a["heap"]) / per
    else:
        tot, site, heap = ta, sa, a["heap"]
    print("live heap: %.1f KiB%s" % (heap / 1024,
                                     " per added unit" if per != 1 else ""))
    print("| owner | KiB | top frames (KiB) |")
    print("| --- | --- | --- |")
    for k in sorted(tot, key=lambda k: -tot[k]):
        tops = sorted((v, f) for (o, f), v in site.items() if o == k)[::-1]
        tops = ", ".join("%s %.1f" % (f, v / 1024) for v, f in tops[:3]
                         if abs(v) >= 512)
        print("| %s | %.1f | %s |" % (k, tot[k] / 1024, tops))


if __name__ == "__main__":
    main()
