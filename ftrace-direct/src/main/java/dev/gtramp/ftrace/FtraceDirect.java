package dev.gtramp.ftrace;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.UnsafeVariant;

import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongFunction;

/**
 * Direct calls ({@code CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS} in {@code kernel/trace/ftrace.c}):
 * the writers of the {@code direct_functions} hash under {@code direct_mutex}, the classic API
 * ({@code register_ftrace_direct}, {@code unregister_ftrace_direct}, {@code modify_ftrace_direct})
 * and the IPMODIFY sharing with direct ops ({@code prepare_direct_functions_for_ipmodify},
 * {@code cleanup_direct_functions_after_ipmodify}). The single-ops batch API is
 * {@link FtraceDirectBatch}'s; registering the ops is {@link Ftrace}'s
 * ({@code register_ftrace_function_nolock}).
 *
 * <p>Invariant: every ip a direct ops' site reaches through {@code call_direct_funcs} or a
 * {@code DIRECT} record has an entry in {@code direct_functions}. A new table is published before
 * a site is patched to it (add) and after the sites stop using an entry (del); a replaced table is
 * freed after a tasks-RCU grace period, since a CPU may be preempted between its lookup and the
 * trampoline. Writers hold {@code direct_mutex}, then {@code ftrace_lock}.
 */
final class FtraceDirect {
    private final FtraceContext ctx;
    private final Ftrace ftrace;
    private final FtraceRecords records;
    private final FtraceCallers callers;
    /** {@code direct_mutex}: writers of {@code direct_functions}. */
    private final ReentrantLock directMutex = new ReentrantLock();
    private final boolean freeDirectHashAtOnce;
    private final boolean modWithoutStubOps;
    private final FtraceOps modifyTmpOps;

    FtraceDirect(FtraceContext ctx, Ftrace ftrace, FtraceRecords records, FtraceCallers callers) {
        this.ctx = ctx;
        this.ftrace = ftrace;
        this.records = records;
        this.callers = callers;
        this.freeDirectHashAtOnce = ctx.kernel.config().unsafeVariants().contains(UnsafeVariant.DIRECT_HASH_FREE_WITHOUT_TASKS_RCU);
        this.modWithoutStubOps = ctx.kernel.config().unsafeVariants().contains(UnsafeVariant.DIRECT_MOD_WITHOUT_STUB_OPS);
        this.modifyTmpOps = FtraceOps.staticCallback("tmp_ops(modify_ftrace_direct)", callers.stubFunc, FtraceOps.STUB);
    }

    /** {@code direct_mutex}. */
    ReentrantLock directMutex() {
        return directMutex;
    }

    /** Whether the modify paths skip the stub ops ({@link UnsafeVariant#DIRECT_MOD_WITHOUT_STUB_OPS}). */
    boolean modWithoutStubOps() {
        return modWithoutStubOps;
    }

    /** {@code lockdep_assert_held(&direct_mutex)}. */
    void requireDirectMutex() {
        if (!directMutex.isHeldByCurrentThread()) {
            throw new KernelException(Errno.EINVAL, "direct_mutex is not held (lockdep_assert_held)");
        }
    }

    /** {@code check_direct_multi} and the ENABLED check every direct update after the first makes. */
    void requireRegisteredDirect(FtraceOps ops) {
        ftrace.opsInit(ops);
        if (!ops.has(FtraceOps.INITIALIZED) || (ops.flags & FtraceOps.MULTI_FLAGS) != FtraceOps.MULTI_FLAGS) {
            throw new KernelException(Errno.EINVAL, ops + " is not a direct ops (set up by register_ftrace_direct"
                    + " or update_ftrace_direct_add)");
        }
        if (!ops.has(FtraceOps.ENABLED)) {
            throw new KernelException(Errno.EINVAL, ops + " is not registered");
        }
    }

    /** Sets {@code ops} up as a direct ops: {@code call_direct_funcs} and the regs caller. */
    void setUpDirectOps(FtraceOps ops) {
        ops.func = callers.callDirectFuncs;
        ops.set(FtraceOps.MULTI_FLAGS);
        ops.trampoline = callers.ftraceRegsCaller;
    }

    /** Undoes {@link #setUpDirectOps}: {@code ops} gets back its {@code flags}. */
    static void tearDownDirectOps(FtraceOps ops, int flags) {
        ops.func = null;
        ops.trampoline = null;
        ops.flags = flags;
    }

    /** {@code call_rcu_tasks(register_ftrace_direct_cb)} for a replaced {@code direct_functions}. */
    void freeDirectFunctionsLater(FtraceHash old) {
        if (old == null || old == ctx.emptyHash) {
            return;
        }
        if (freeDirectHashAtOnce) {
            ctx.allocator.free(old);
            return;
        }
        ctx.count(Cost.CALL_RCU_TASKS);
        ctx.kernel.tasksRcu().call(() -> ctx.allocator.free(old));
    }

    // ---------------------------------------------------------------------------------------
    // IPMODIFY sharing

    /** A direct ops that is enabled and traces {@code ip} ({@code ops_references_ip}). */
    private FtraceOps directOpsAt(long ip) {
        ctx.ftraceLock.lock();
        try {
            for (FtraceOps op : ctx.opsList) {
                if (op.has(FtraceOps.DIRECT) && op.has(FtraceOps.ENABLED) && op.funcHash.containsIp(ip)) {
                    return op;
                }
            }
            return null;
        } finally {
            ctx.ftraceLock.unlock();
        }
    }

    /** {@code prepare_direct_functions_for_ipmodify}. Caller holds {@code direct_mutex}. */
    void prepareDirectFunctionsForIpmodify(FtraceOps ops) {
        if (!ops.has(FtraceOps.IPMODIFY)) {
            return;
        }
        for (long ip : ops.filterIps()) {
            FtraceOps op = directOpsAt(ip);
            if (op == null) {
                continue;
            }
            if (op.opsFunc == null) {
                throw new KernelException(Errno.EBUSY, records.fn(ip) + " has direct " + op + " without ops_func; IPMODIFY "
                        + ops + " cannot share it");
            }
            int ret = op.opsFunc.apply(op, ip, OpsCmd.ENABLE_SHARE_IPMODIFY_PEER);
            if (ret != 0) {
                throw new KernelException(Errno.of(ret), "ops_func of " + op + " answered " + Errno.of(ret)
                        + " to ENABLE_SHARE_IPMODIFY_PEER for " + records.fn(ip) + " (IPMODIFY " + ops + ")");
            }
        }
    }

    /** {@code cleanup_direct_functions_after_ipmodify}. */
    void cleanupDirectFunctionsAfterIpmodify(FtraceOps ops) {
        if (!ops.has(FtraceOps.IPMODIFY)) {
            return;
        }
        directMutex.lock();
        try {
            for (long ip : ops.filterIps()) {
                FtraceOps op = directOpsAt(ip);
                if (op != null && op.opsFunc != null) {
                    op.opsFunc.apply(op, ip, OpsCmd.DISABLE_SHARE_IPMODIFY_PEER);
                }
            }
        } finally {
            directMutex.unlock();
        }
    }

    // ---------------------------------------------------------------------------------------
    // Classic direct API

    /** {@code register_ftrace_direct}; see {@link Ftrace#registerFtraceDirect}. */
    void register(FtraceOps ops, CallTarget addr) {
        ftrace.opsInit(ops);
        if (addr == null) {
            throw new KernelException(Errno.EINVAL, "null direct address for " + ops);
        }
        if (ops.func != null || ops.trampoline != null) {
            throw new KernelException(Errno.EINVAL, ops + " already has a callback or trampoline");
        }
        if (ops.has(FtraceOps.ENABLED)) {
            throw new KernelException(Errno.EINVAL, ops + " is already registered");
        }
        FtraceHash hash = ops.funcHash.filter;
        if (FtraceHash.empty(hash)) {
            throw new KernelException(Errno.EINVAL, ops + " has an empty filter; set it with ftrace_set_filter_ip first");
        }
        FtraceHash freeHash = null;
        directMutex.lock();
        try {
            for (long ip : hash.ips()) {
                CallTarget existing = ctx.findRecDirect(ip);
                if (existing != null) {
                    throw new KernelException(Errno.EBUSY, records.fn(ip) + " already has direct trampoline " + existing);
                }
            }
            FtraceHash old = ctx.directFunctions;
            int bits = Math.min(FtraceHash.fls(hash.count() + old.count()), FtraceHash.FTRACE_HASH_MAX_BITS);
            FtraceHash newHash = ftrace.allocAndCopy(bits, old, hash.count());
            for (long ip : hash.ips()) {
                newHash.add(ip, addr);
                hash.setDirect(ip, addr);
            }
            ctx.count(Cost.HASH_ENTRIES_COPIED, hash.count());
            ctx.directFunctions = newHash;
            int flags = ops.flags;
            setUpDirectOps(ops);
            ops.directCall = addr;
            try {
                ftrace.registerFtraceFunctionNolock(ops);
                freeHash = old;
            } catch (RuntimeException e) {
                // reset_direct: the ips leave direct_functions again. The model republishes the
                // old table (still live) rather than deleting from the published one in place.
                ctx.directFunctions = old;
                freeHash = newHash;
                for (long ip : hash.ips()) {
                    hash.setDirect(ip, null);
                }
                tearDownDirectOps(ops, flags);
                ops.directCall = null;
                throw e;
            }
        } finally {
            directMutex.unlock();
            freeDirectFunctionsLater(freeHash);
        }
    }

    /** {@code unregister_ftrace_direct}; see {@link Ftrace#unregisterFtraceDirect}. */
    void unregister(FtraceOps ops, CallTarget addr, boolean freeFilters) {
        requireRegisteredDirect(ops);
        directMutex.lock();
        try {
            // The kernel resets the direct entries even when unregistering failed; its only
            // failures leave the ops unregistered anyway. The model's failures (an injected fault)
            // leave the ops registered, so its entries stay.
            ftrace.unregisterFtraceFunction(ops);
            resetDirect(ops, addr);
        } finally {
            directMutex.unlock();
        }
        if (freeFilters) {
            ftrace.freeFilter(ops);
        }
    }

    /**
     * {@code reset_direct}: removes the ops' functions whose target is {@code addr} from
     * {@code direct_functions}. The kernel deletes the entries in place (the sites no longer reach
     * them); an open-addressing table cannot lose entries under lock-free readers, so the model
     * publishes a trimmed copy and frees the old table after a tasks-RCU grace period. Neither
     * costs the kernel anything, so neither is counted.
     */
    private void resetDirect(FtraceOps ops, CallTarget addr) {
        FtraceHash filter = ops.funcHash.filter;
        FtraceHash old = ctx.directFunctions;
        if (!FtraceHash.empty(filter)) {
            FtraceHash trimmed = null;
            for (long ip : filter.ips()) {
                if (old.contains(ip) && old.findDirect(ip) == addr) {
                    if (trimmed == null) {
                        trimmed = ctx.allocator.allocNoFail(new FtraceHash(old.sizeBits(), old.count()));
                        trimmed.copyFrom(old);
                    }
                    trimmed.remove(ip);
                }
            }
            if (trimmed != null) {
                ctx.directFunctions = trimmed;
                if (freeDirectHashAtOnce) {
                    ctx.allocator.free(old);
                } else if (old != ctx.emptyHash) {
                    ctx.kernel.tasksRcu().call(() -> ctx.allocator.free(old));
                }
            }
        }
        ops.func = null;
        ops.trampoline = null;
    }

    /** {@code modify_ftrace_direct} (with {@code lock}) or {@code modify_ftrace_direct_nolock}. */
    void modify(FtraceOps ops, CallTarget addr, boolean lock) {
        requireRegisteredDirect(ops);
        if (!lock) {
            requireDirectMutex();
            modifyLocked(ops, addr);
            return;
        }
        directMutex.lock();
        try {
            modifyLocked(ops, addr);
        } finally {
            directMutex.unlock();
        }
    }

    private void modifyLocked(FtraceOps ops, CallTarget addr) {
        FtraceOps tmp = modifyTmpOps;
        ftrace.opsInit(tmp);
        tmp.funcHash = ops.funcHash;
        tmp.directCall = addr;
        if (modWithoutStubOps) {
            setDirectsInPlace(ops.funcHash.filter, ip -> addr);
            ops.directCall = addr;
            tmp.funcHash = tmp.localHash;
            return;
        }
        ftrace.registerFtraceFunctionNolock(tmp);
        try {
            FtraceHash filter = ops.funcHash.filter;
            records.hashUpdateIpmodify(ops, filter, filter, true, new UndoLog());
            setDirectsInPlace(filter, ip -> addr);
            ops.directCall = addr;
        } finally {
            ftrace.unregisterFtraceFunction(tmp, false);
            tmp.funcHash = tmp.localHash;
        }
    }

    /**
     * The in-place store of the modify paths, under {@code ftrace_lock}: {@code entry->direct = new}
     * for each ip of {@code ips} that has an entry. Alone, without the stub ops around it, it is
     * {@link UnsafeVariant#DIRECT_MOD_WITHOUT_STUB_OPS}.
     */
    void setDirectsInPlace(FtraceHash ips, LongFunction<CallTarget> target) {
        ctx.ftraceLock.lock();
        try {
            FtraceHash direct = ctx.directFunctions;
            for (long ip : ips.ips()) {
                if (direct.contains(ip)) {
                    direct.setDirect(ip, target.apply(ip));
                }
            }
        } finally {
            ctx.ftraceLock.unlock();
        }
    }
}
