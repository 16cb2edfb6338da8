package dev.gtramp.ftrace;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;

/**
 * The single-ops batch API of direct calls ({@code kernel/trace/ftrace.c}):
 * {@code update_ftrace_direct_add}, {@code update_ftrace_direct_del} and
 * {@code update_ftrace_direct_mod}, with their hash arithmetic {@code hash_add} and
 * {@code hash_sub}. One ops (BPF's static {@code direct_ops}) traces every attached function; each
 * call changes its filter and {@code direct_functions} by a batch of entries.
 *
 * <p>Invariant: the ops' filter and {@code direct_functions} change together. add publishes the
 * new {@code direct_functions} before a site is patched to an entry, del after the sites stop
 * using it, and mod changes entries in place only while a stub ops keeps every site on the list
 * function; a failure restores both. Writers hold {@code direct_mutex} ({@link FtraceDirect}).
 */
final class FtraceDirectBatch {
    private final FtraceContext ctx;
    private final Ftrace ftrace;
    private final FtraceRecords records;
    private final FtraceDirect direct;
    private final FtraceOps batchModTmpOps;

    FtraceDirectBatch(FtraceContext ctx, Ftrace ftrace, FtraceRecords records, FtraceCallers callers, FtraceDirect direct) {
        this.ctx = ctx;
        this.ftrace = ftrace;
        this.records = records;
        this.direct = direct;
        this.batchModTmpOps = FtraceOps.staticCallback("tmp_ops(update_ftrace_direct_mod)", callers.stubFunc, FtraceOps.STUB);
    }

    /** The checks {@code update_ftrace_direct_del} and {@code _mod} make before taking a lock. */
    private void requireBatchOnLiveDirect(FtraceOps ops, FtraceHash hash, String api) {
        ftrace.opsInit(ops);
        if (FtraceHash.empty(hash)) {
            throw new KernelException(Errno.EINVAL, api + ": empty hash for " + ops);
        }
        direct.requireRegisteredDirect(ops);
        if (ctx.directFunctions == ctx.emptyHash) {
            throw new KernelException(Errno.EINVAL, "no function has a direct trampoline");
        }
    }

    /** {@code update_ftrace_direct_add}; see {@link Ftrace#updateFtraceDirectAdd}. */
    void add(FtraceOps ops, FtraceHash hash) {
        ftrace.opsInit(ops);
        if (FtraceHash.empty(hash)) {
            throw new KernelException(Errno.EINVAL, "update_ftrace_direct_add: empty hash for " + ops);
        }
        FtraceHash oldDirect = null;
        FtraceHash newFilter = null;
        direct.directMutex().lock();
        try {
            for (long ip : hash.ips()) {
                if (ctx.directFunctions.contains(ip)) {
                    throw new KernelException(Errno.EINVAL, records.fn(ip) + " already has direct trampoline " + ctx.findRecDirect(ip));
                }
                if (records.ftraceLocation(ip) == 0) {
                    throw new KernelException(Errno.EINVAL, "no patch site at " + records.describeIp(ip));
                }
                if (hash.findDirect(ip) == null) {
                    throw new KernelException(Errno.EINVAL, records.fn(ip) + " has no direct address in the hash");
                }
            }
            FtraceHash oldFilter = ops.funcHash.filter;
            boolean reg = FtraceHash.countOf(oldFilter) == 0;
            if (reg && (ops.func != null || ops.trampoline != null || ops.has(FtraceOps.ENABLED))) {
                throw new KernelException(Errno.EINVAL, ops + " has no functions but is set up or registered already");
            }
            newFilter = hashAdd(oldFilter, hash);
            FtraceHash newDirect = hashAdd(ctx.directFunctions, hash);
            oldDirect = ctx.directFunctions;
            ctx.directFunctions = newDirect;
            try {
                if (reg) {
                    int flags = ops.flags;
                    direct.setUpDirectOps(ops);
                    ops.localHash.filter = newFilter;
                    try {
                        ftrace.registerFtraceFunctionNolock(ops);
                    } catch (RuntimeException e) {
                        ops.localHash.filter = oldFilter;
                        FtraceDirect.tearDownDirectOps(ops, flags);
                        throw e;
                    }
                    newFilter = oldFilter;
                } else {
                    ftrace.ftraceUpdateOps(ops, newFilter);
                }
            } catch (RuntimeException e) {
                ctx.directFunctions = oldDirect;
                oldDirect = newDirect;
                throw e;
            }
        } finally {
            direct.directMutex().unlock();
            direct.freeDirectFunctionsLater(oldDirect);
            ftrace.freeHash(newFilter);
        }
    }

    /** {@code update_ftrace_direct_del}; see {@link Ftrace#updateFtraceDirectDel}. */
    void del(FtraceOps ops, FtraceHash hash) {
        requireBatchOnLiveDirect(ops, hash, "update_ftrace_direct_del");
        FtraceHash oldDirect = null;
        FtraceHash newFilter = null;
        direct.directMutex().lock();
        try {
            FtraceHash oldFilter = ops.funcHash.filter;
            if (FtraceHash.countOf(oldFilter) == 0) {
                throw new KernelException(Errno.EINVAL, ops + " has no functions");
            }
            for (long ip : hash.ips()) {
                CallTarget cur = ctx.findRecDirect(ip);
                CallTarget want = hash.findDirect(ip);
                if (cur == null || cur != want) {
                    throw new KernelException(Errno.EINVAL, records.fn(ip) + (cur == null ? " has no direct trampoline"
                            : " is attached to " + cur + ", not " + want));
                }
            }
            newFilter = hashSub(oldFilter, hash, ops);
            FtraceHash newDirect = hashSub(ctx.directFunctions, hash, ops);
            try {
                if (FtraceHash.empty(newFilter)) {
                    ftrace.unregisterFtraceFunction(ops);
                    ops.func = null;
                    ops.trampoline = null;
                    // Not ftrace_free_filter's kfree at once: unregistering a static ops waits
                    // for no caller, and a CPU in ftrace_ops_list_func may have loaded this
                    // filter before the unregister and still test an ip against it.
                    FtraceHash filter = ops.funcHash.filter;
                    ops.funcHash.filter = null;
                    ftrace.freeHashRcu(filter);
                } else {
                    ftrace.ftraceUpdateOps(ops, newFilter);
                }
            } catch (RuntimeException e) {
                ftrace.freeHash(newDirect);
                throw e;
            }
            oldDirect = ctx.directFunctions;
            ctx.directFunctions = newDirect;
        } finally {
            direct.directMutex().unlock();
            direct.freeDirectFunctionsLater(oldDirect);
            ftrace.freeHash(newFilter);
        }
    }

    /** {@code update_ftrace_direct_mod}; see {@link Ftrace#updateFtraceDirectMod}. */
    void mod(FtraceOps ops, FtraceHash hash, boolean doDirectLock) {
        requireBatchOnLiveDirect(ops, hash, "update_ftrace_direct_mod");
        if (doDirectLock) {
            direct.directMutex().lock();
        } else {
            direct.requireDirectMutex();
        }
        try {
            FtraceHash orig = ops.funcHash.filter;
            if (orig == null) {
                throw new KernelException(Errno.EINVAL, ops + " has no functions");
            }
            for (long ip : hash.ips()) {
                if (hash.findDirect(ip) == null) {
                    throw new KernelException(Errno.EINVAL, records.fn(ip) + " has no direct address in the hash");
                }
            }
            if (direct.modWithoutStubOps()) {
                direct.setDirectsInPlace(hash, hash::findDirect);
                return;
            }
            FtraceOps tmp = batchModTmpOps;
            ftrace.opsInit(tmp);
            tmp.localHash.filter = hash;
            try {
                ftrace.registerFtraceFunctionNolock(tmp);
                try {
                    records.hashUpdateIpmodify(ops, orig, orig, true, new UndoLog());
                    direct.setDirectsInPlace(hash, hash::findDirect);
                } finally {
                    ftrace.unregisterFtraceFunction(tmp, false);
                }
            } finally {
                tmp.localHash.filter = null;
            }
        } finally {
            if (doDirectLock) {
                direct.directMutex().unlock();
            }
        }
    }

    /** {@code hash_add(a, b)}: a new hash with the entries of both. */
    private FtraceHash hashAdd(FtraceHash a, FtraceHash b) {
        int size = Math.min(FtraceHash.countOf(a) + FtraceHash.countOf(b), 32);
        FtraceHash h = ftrace.allocAndCopy(FtraceHash.fls(size), a, FtraceHash.countOf(b));
        try {
            for (long ip : b.ips()) {
                h.add(ip, b.findDirect(ip));
            }
        } catch (RuntimeException e) {
            ftrace.freeHash(h);
            throw e;
        }
        ctx.count(Cost.HASH_ENTRIES_COPIED, FtraceHash.countOf(b));
        return h;
    }

    /** {@code hash_sub(a, b)}: a new hash with the entries of {@code a} not in {@code b}. */
    private FtraceHash hashSub(FtraceHash a, FtraceHash b, FtraceOps ops) {
        FtraceHash h = ftrace.allocAndCopy(a.sizeBits(), a, 0);
        for (long ip : b.ips()) {
            if (!h.remove(ip)) {
                ftrace.freeHash(h);
                // The kernel's WARN_ON_ONCE in hash_sub; update_ftrace_direct_del reports -ENOMEM.
                throw new KernelException(Errno.ENOMEM, records.fn(ip) + " is not in the filter of " + ops
                        + " (it is attached through another ops); hash_sub fails");
            }
        }
        return h;
    }
}
