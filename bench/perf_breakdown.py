#!/usr/bin/env python3
"""Where a Roster profile's time goes, by cost centre.

Reads `perf script -F comm,tid,ip,sym` output (a recording made with call
chains, preferably --call-graph dwarf) on stdin and prints, for each cost
centre below, the share of all samples whose call chain passes through it
(inclusive: a sample can count for several centres, e.g. malloc inside JSON).
Also the share per thread kind (HTTP workers, CAF scheduler, CAF clock, RocksDB).
Usage: perf script -i perf.data -F comm,tid,ip,sym | bench/perf_breakdown.py
"""
import re
import sys

JSON = "json"  # a frame of nlohmann's own code (not a Roster function taking a json)
CENTRES = [
    ("HTTP side: waiting for an actor's reply (router ask → receive)", ["caf::blocking_actor::receive_impl"]),
    ("HTTP side: router call_index (index lookup trip)", ["roster::router::call_index"]),
    ("HTTP side: router call_user (user actor trip)", ["roster::router::call_user"]),
    ("sending a message (enqueue + wake-up)", ["caf::actor_control_block::enqueue", "caf::abstract_actor::enqueue",
                                              "caf::local_actor::send", "caf::scheduled_actor::enqueue"]),
    ("futex wait/wake (kernel)", ["futex_wait", "futex_wake", "__x64_sys_futex"]),
    ("scheduler switch (kernel schedule)", ["__schedule"]),
    ("request timeouts (CAF actor clock, any thread)", ["caf::detail::thread_safe_actor_clock",
                                                        "caf::detail::simple_actor_clock"]),
    ("user actor handler", ["roster::(anonymous namespace)::user_actor("]),
    ("index actor handler", ["roster::(anonymous namespace)::index_actor("]),
    ("RocksDB write (DBImpl::WriteImpl)", ["rocksdb::DBImpl::WriteImpl"]),
    ("  of which WAL append (WriteToWAL)", ["rocksdb::DBImpl::WriteToWAL"]),
    ("  of which memtable insert", ["rocksdb::MemTable::Add"]),
    ("  of which fsync/fdatasync", ["fdatasync", "fsync"]),
    ("RocksDB point read (DBImpl::Get)", ["rocksdb::DBImpl::GetImpl", "rocksdb::DBImpl::Get("]),
    ("RocksDB iterator (scans)", ["rocksdb::DBIter", "rocksdb::DBImpl::NewIterator", "rocksdb::ArenaWrappedDBIter"]),
    ("security-log write (add_log)", ["::add_log"]),
    ("new_session (incl. prune over the user's sessions)", ["::new_session"]),
    ("  std::map walk in new_session (prune_sessions)", [("std::_Rb_tree_increment", "::new_session")]),
    ("JSON (nlohmann: build, parse, dump, destroy)", [JSON]),
    ("  JSON parse", ["::detail::parser<", "::detail::lexer<", "json_sax_dom_parser"]),
    ("  JSON dump", ["::detail::serializer<"]),
    ("body_of (re-parse a reply in accounts.cc)", ["roster::(anonymous namespace)::body_of"]),
    ("views (own_view, session_view) and codecs (encode_user/session)", ["roster::own_view", "roster::session_view",
                                                                         "roster::encode_user", "roster::encode_session",
                                                                         "roster::decode_user", "roster::decode_session"]),
    ("token and ids (RAND_bytes, SHA-256)", ["RAND_bytes", "SHA256", "roster::sha256", "EVP_Digest"]),
    ("Argon2", ["argon2", "blake2b", "fill_segment"]),
    ("malloc/free", ["malloc", "_int_free", "cfree", "operator new", "operator delete", "malloc_consolidate"]),
    ("HTTP edge reader (epoll thread)", ["roster::http::edge::impl::run"]),
    ("HTTP worker: wait for the connection's next request (poll)", ["roster::http::edge::impl::read_soon"]),
    ("HTTP: writing the response (send)", ["httplib::Server::write_response_core"]),
    ("kernel (any)", ["[k]"]),
]


def thread_kind(comm):
    if comm.startswith("caf.clock"): return "CAF clock"
    if comm.startswith("caf."): return "CAF scheduler"
    if comm.startswith("rocksdb"): return "RocksDB background"
    return "HTTP threads (edge reader, workers)"


def samples(lines):
    comm, frames = None, []
    for line in lines:
        if not line.strip():
            if comm is not None: yield comm, frames
            comm, frames = None, []
        elif not line[0].isspace():
            if comm is not None: yield comm, frames
            comm, frames = line.split()[0], []
        else:
            parts = line.strip().split(None, 1)
            sym = parts[1] if len(parts) > 1 else "?"
            if parts[0].startswith("ffffffff"): sym = "[k] " + sym
            frames.append(sym)
    if comm is not None: yield comm, frames


def matches(frames, pat):
    if isinstance(pat, tuple):  # (leaf, caller): the leaf frame and the caller somewhere above
        return bool(frames) and pat[0] in frames[0] and any(pat[1] in f for f in frames[1:])
    if pat == "[k]": return any(f.startswith("[k]") for f in frames)
    if pat is JSON:
        return any(f.startswith("nlohmann::") or (f.startswith("std::") and "nlohmann" in f.split("(")[0])
                   for f in frames)
    return any(pat in f for f in frames)


# Exclusive attribution: each sample goes to the nearest frame (leaf upwards)
# that says what the work is for; generic frames (kernel, libc: malloc, futex,
# memcpy, pthread; the standard library's containers) count for their caller.
GENERIC = re.compile(r"^(\[k\]|__|0x|\[unknown\]|_?int_(malloc|free)|malloc|free|cfree|tcache|unlink_chunk|sysmalloc|"
                     r"operator (new|delete)|mem(cpy|cmp|move|set)|str(len|cmp)|pthread|futex|lll_|"
                     r"_?IO_|.*vfprintf|(__)?libc_|\?$)")


def purpose(frames):
    for i, f in enumerate(frames):
        if f.startswith("std::_Rb_tree_increment") and any("::new_session" in g for g in frames[i:]):
            return "session map walk in new_session (prune_sessions)"
        if not f or GENERIC.match(f): continue
        # the standard library's strings, maps and vectors count for their caller
        if f.startswith("std::") and "nlohmann" not in f.split("(")[0]: continue
        if "argon2" in f or "blake2" in f or "fill_segment" in f: return "Argon2"
        if f.startswith("rocksdb::"):
            above = frames[i:]
            if any("WriteImpl" in g or "rocksdb_store::write" in g for g in above):
                return "RocksDB write (batch, WAL append, memtable insert)"
            if any("GetImpl" in g or "rocksdb_store::get" in g for g in above): return "RocksDB point read"
            if any("rocksdb_store::scan" in g or "NewIterator" in g for g in above): return "RocksDB scan"
            return "RocksDB other (background, flush)"
        if f.startswith("nlohmann::") or (f.startswith("std::") and "nlohmann" in f.split("(")[0]):
            return "JSON (nlohmann)"
        if "actor_clock" in f: return "CAF actor clock (request timeouts)"
        if f.startswith("caf::") or "caf::" in f.split("(")[0][:40]:
            return "CAF messaging: enqueue, wake, wait, scheduler loop (thread hand-offs)"
        if f.startswith("httplib::"): return "cpp-httplib (parse request, write response)"
        if (f.startswith("roster::http::edge") or f.startswith("roster::http::worker_pool")
                or "framed_stream" in f):
            return "HTTP edge and worker pool (epoll, recv/send, poll for next request, hand-off)"
        if "RAND_bytes" in f or "SHA256" in f or "sha256" in f or f.startswith("EVP_") or "ossl" in f:
            return "crypto (token RAND_bytes, SHA-256)"
        if f.startswith("roster::") or f.startswith("void roster::"):
            return "Roster code (handlers, views, codecs, router), its strings, maps and allocations"
    return "other (kernel/libc with no attributable caller)"


def main():
    total, kinds, counts, excl = 0, {}, {name: 0 for name, _ in CENTRES}, {}
    for comm, frames in samples(sys.stdin):
        total += 1
        excl[purpose(frames)] = excl.get(purpose(frames), 0) + 1
        kinds[thread_kind(comm)] = kinds.get(thread_kind(comm), 0) + 1
        for name, pats in CENTRES:
            if any(matches(frames, p) for p in pats): counts[name] += 1
    if not total: sys.exit("no samples")
    print(f"{total} samples")
    for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]): print(f"  {100 * n / total:5.1f}%  thread: {k}")
    print("inclusive (a sample counts for every centre on its call chain):")
    for name, _ in CENTRES: print(f"  {100 * counts[name] / total:5.1f}%  {name}")
    print("exclusive (each sample once, to the nearest frame that says what the work is for):")
    for k, n in sorted(excl.items(), key=lambda kv: -kv[1]): print(f"  {100 * n / total:5.1f}%  {k}")


if __name__ == "__main__":
    main()
