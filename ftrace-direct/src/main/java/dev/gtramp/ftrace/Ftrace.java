package dev.gtramp.ftrace;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.text.TextPoker;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The ftrace subsystem of one kernel ({@code kernel/trace/ftrace.c} with x86's
 * {@code arch/x86/kernel/ftrace.c}): a {@link DynFtrace} record per patch site, the registered
 * {@link FtraceOps}, the global {@code direct_functions} hash, and the code that decides what each
 * entry site calls and patches it in {@link TextPoker} batches. Get it with {@link #of(Kernel)}.
 *
 * <h2>What a site calls</h2>
 * A site traced by one direct ops calls that ops' trampoline straight from the entry
 * ({@code ftrace_get_addr_new}: {@code DIRECT} with count 1). A site traced by several ops calls
 * {@code ftrace_regs_caller} (if any wants registers, as direct ops do) or {@code ftrace_caller},
 * which call the patched {@code ftrace_call} function: {@code ftrace_ops_list_func} when several ops
 * are registered, the one ops' callback otherwise. The list function runs every matching ops'
 * callback; a direct ops' callback, {@code call_direct_funcs}, looks the site up in
 * {@code direct_functions} and sets {@code orig_ax}, and the regs caller then enters that
 * trampoline instead of returning into the body.
 *
 * <h2>APIs</h2>
 * The classic one-ops-per-user API ({@link #setFilterIp}, {@link #registerFtraceDirect},
 * {@link #modifyFtraceDirect}, {@link #unregisterFtraceDirect}) and the single-ops batch API
 * ({@link #updateFtraceDirectAdd}, {@link #updateFtraceDirectDel}, {@link #updateFtraceDirectMod}),
 * with the kernel's checks, errnos, lock order ({@code direct_mutex} before {@code ftrace_lock}
 * before {@code text_mutex}) and grace periods. Every cost is counted in {@link #costs()}.
 *
 * <h2>Failures</h2>
 * Allocation failures (fault point {@code alloc:ftrace_hash}) return ENOMEM where the kernel
 * allocates. The patch step has fault point {@code ftrace:verify_code}: {@code ftrace_verify_code}
 * reading back what each site holds before anything is written. The kernel verifies after its
 * records were updated and then kills ftrace ({@code ftrace_bug}); the model verifies first, logs
 * the {@code ftrace_bug} message and undoes the update, so records, ops, hashes and sites are
 * exactly as before the call.
 *
 * <h2>Model scope</h2>
 * x86's per-ops allocated trampolines ({@code FTRACE_OPS_FL_ALLOC_TRAMP}) are not modelled: a site
 * with one callback ops calls {@code ftrace_caller}. The notrace hash is empty for every ops. Records
 * are visited only where an ops' filter names them (an empty filter visits all); the kernel walks
 * every record each time, with the same result.
 *
 * <h2>Parts</h2>
 * This class is the filters and their hashes, and the API. The rest follows the seams of
 * {@code ftrace.c}: the ops list ({@code FtraceOpsList}: {@code ftrace_startup},
 * {@code ftrace_shutdown}), the records ({@code FtraceRecords}), the call path and trace function
 * ({@code FtraceCallers}), the code update ({@code FtracePatcher}), direct calls
 * ({@code FtraceDirect}, {@code FtraceDirectBatch}), each update's undo log ({@code UndoLog}), and
 * the globals they share ({@code FtraceContext}).
 *
 * <p>Over 400 lines because it is the public API of all of them: each public method is the kernel
 * function of that name, with its operation bracket and locks, delegating to its part; the filter
 * code ({@code ftrace_set_hash}, {@code ftrace_hash_move_and_update_ops}) is the rest.
 */
public final class Ftrace {
    /** The size bits {@code ftrace_set_hash} allocates a filter with. */
    private static final int FILTER_HASH_BITS = 10;

    private final FtraceContext ctx;
    private final Kernel kernel;
    private final FtraceCallers callers;
    private final FtraceRecords records;
    private final FtracePatcher patcher;
    private final FtraceDirect direct;
    private final FtraceDirectBatch batch;
    private final FtraceOpsList opsList;

    private Ftrace(Kernel kernel) {
        this.kernel = kernel;
        this.ctx = new FtraceContext(kernel);
        this.callers = new FtraceCallers(ctx);
        this.records = new FtraceRecords(ctx, callers);
        this.patcher = new FtracePatcher(ctx, records, callers);
        this.opsList = new FtraceOpsList(ctx, callers, records, patcher);
        this.direct = new FtraceDirect(ctx, this, records, callers);
        this.batch = new FtraceDirectBatch(ctx, this, records, callers, direct);
    }

    /** The ftrace subsystem of {@code kernel}, created on first use. */
    public static Ftrace of(Kernel kernel) {
        return kernel.subsystem(Ftrace.class, Ftrace::new);
    }

    public Kernel kernel() {
        return kernel;
    }

    /**
     * {@code ftrace_find_rec_direct}: the direct trampoline of {@code ip}, or {@code null}. Lock-free;
     * the hash is protected by tasks RCU for readers on the call path.
     */
    public CallTarget findRecDirect(long ip) {
        return ctx.findRecDirect(ip);
    }

    // ---------------------------------------------------------------------------------------
    // Records

    /** {@code ftrace_location}: {@code ip} if a patch site starts there, else 0. */
    public long ftraceLocation(long ip) {
        return records.ftraceLocation(ip);
    }

    /** The record of the site at {@code ip}. */
    public Optional<DynFtrace> record(long ip) {
        return records.record(ip);
    }

    /** The number of patch sites. */
    public int recordCount() {
        return records.count();
    }

    /** The records with a non-zero count, in address order. */
    public List<DynFtrace> enabledRecords() {
        return records.enabled();
    }

    // ---------------------------------------------------------------------------------------
    // Hashes

    /** {@code alloc_ftrace_hash}: an empty hash the caller fills and frees with {@link #freeHash}. */
    public FtraceHash allocHash(int sizeBits) {
        FtraceHash h = ctx.allocator.alloc(new FtraceHash(sizeBits, 1 << Math.max(0, Math.min(sizeBits, FtraceHash.FTRACE_HASH_MAX_BITS))));
        ctx.count(Cost.HASHES_ALLOCATED);
        return h;
    }

    /** An empty hash sized for {@code expected} entries. */
    public FtraceHash allocHashFor(int expected) {
        FtraceHash h = ctx.allocator.alloc(new FtraceHash(FtraceHash.fls(expected), expected));
        ctx.count(Cost.HASHES_ALLOCATED);
        return h;
    }

    /** {@code free_ftrace_hash}: frees a hash (no-op for {@code null} or the empty hash). */
    public void freeHash(FtraceHash h) {
        if (h != null && h != ctx.emptyHash) {
            ctx.allocator.free(h);
        }
    }

    /** {@code alloc_and_copy_ftrace_hash}, with room for {@code extra} more entries. */
    FtraceHash allocAndCopy(int sizeBits, FtraceHash from, int extra) {
        int n = FtraceHash.countOf(from);
        FtraceHash h = ctx.allocator.alloc(new FtraceHash(sizeBits, n + extra));
        ctx.count(Cost.HASHES_ALLOCATED);
        if (n > 0) {
            h.copyFrom(from);
            ctx.count(Cost.HASH_ENTRIES_COPIED, n);
        }
        return h;
    }

    void freeHashRcu(FtraceHash h) {
        if (h != null && h != ctx.emptyHash) {
            ctx.count(Cost.CALL_RCU);
            kernel.rcu().call(() -> ctx.allocator.free(h));
        }
    }

    // ---------------------------------------------------------------------------------------
    // The ops list (FtraceOpsList: ftrace_startup / ftrace_shutdown)

    /** {@code ftrace_ops_init}; also ties {@code ops} to this kernel's ftrace. */
    void opsInit(FtraceOps ops) {
        if (ops.owner == null) {
            ops.owner = this;
        } else if (ops.owner != this) {
            throw new KernelException(Errno.EINVAL, ops + " belongs to the ftrace of another kernel");
        }
        if (!ops.has(FtraceOps.INITIALIZED)) {
            ops.set(FtraceOps.INITIALIZED);
            ops.funcHash = ops.localHash;
        }
    }

    // ---------------------------------------------------------------------------------------
    // Filters (ftrace_set_hash, ftrace_hash_move_and_update_ops, ftrace_update_ops)

    /**
     * {@code ftrace_set_filter_ip}: adds {@code ip} to (or with {@code remove}, removes it from)
     * the filter of {@code ops}; {@code reset} empties the filter first. A registered ops has its
     * sites updated at once.
     *
     * @throws KernelException EINVAL naming the function if no patch site starts at {@code ip};
     *                         ENOENT removing an ip the filter lacks; ENOMEM
     */
    public void setFilterIp(FtraceOps ops, long ip, boolean remove, boolean reset) {
        setFilterIps(ops, new long[]{ip}, remove, reset);
    }

    /** {@code ftrace_set_filter_ips}: {@link #setFilterIp} for many ips, all or none. */
    public void setFilterIps(FtraceOps ops, long[] ips, boolean remove, boolean reset) {
        try (Kernel.Operation op = kernel.beginOperation("ftrace_set_filter_ips")) {
            opsInit(ops);
            synchronized (ops.funcHash) {
                FtraceHash orig = ops.funcHash.filter;
                FtraceHash hash = reset ? allocHash(FILTER_HASH_BITS) : allocAndCopy(FILTER_HASH_BITS, orig, ips.length);
                try {
                    for (long ip : ips) {
                        if (records.ftraceLocation(ip) == 0) {
                            throw new KernelException(Errno.EINVAL, "no patch site at " + records.describeIp(ip));
                        }
                        if (remove) {
                            if (!hash.remove(ip)) {
                                throw new KernelException(Errno.ENOENT, records.fn(ip) + " is not in the filter of " + ops);
                            }
                        } else if (!hash.contains(ip)) {
                            hash.add(ip);
                        }
                    }
                    ctx.ftraceLock.lock();
                    try {
                        hashMoveAndUpdateOps(ops, hash);
                    } finally {
                        ctx.ftraceLock.unlock();
                    }
                } finally {
                    freeHash(hash);
                }
            }
        }
    }

    /**
     * {@code __ftrace_hash_move_and_update_ops} for the filter: a new filter with {@code src}'s
     * entries replaces the old one (freed after an RCU grace period) and the sites are updated.
     * The kernel moves the entries out of {@code src}; the model copies them, and the caller frees
     * {@code src} either way. Caller holds {@code ftrace_lock}.
     */
    private void hashMoveAndUpdateOps(FtraceOps ops, FtraceHash src) {
        FtraceHash oldHash = ops.funcHash.filter;
        FtraceHash newHash = FtraceHash.empty(src) ? null : allocAndCopy(Math.min(FtraceHash.fls(FtraceHash.countOf(src) / 2), FtraceHash.FTRACE_HASH_MAX_BITS), src, 0);
        UndoLog log = new UndoLog();
        try {
            if (ops.has(FtraceOps.ENABLED) && (ops.has(FtraceOps.IPMODIFY) || ops.has(FtraceOps.DIRECT))) {
                records.hashUpdateIpmodify(ops, FtraceHash.empty(oldHash) ? null : oldHash, newHash == null ? null : newHash, false, log);
            }
            boolean update = records.hashRecUpdate(ops, false, log);
            FtraceOps.OpsHash h = ops.funcHash;
            h.filter = newHash;
            log.onUndo(() -> h.filter = oldHash);
            update |= records.hashRecUpdate(ops, true, log);
            if (ops.has(FtraceOps.ENABLED) && update) {
                ops.set(FtraceOps.MODIFYING);
                try {
                    patcher.runUpdateCode(FtracePatcher.FTRACE_UPDATE_CALLS, log);
                } finally {
                    ops.clear(FtraceOps.MODIFYING);
                }
            }
        } catch (RuntimeException e) {
            log.rollback();
            freeHash(newHash);
            throw e;
        }
        if (ops.has(FtraceOps.ENABLED)) {
            ctx.count(Cost.OPS_UPDATED);
        }
        freeHashRcu(oldHash);
    }

    /** {@code ops_equal}: the same ip sets. */
    private static boolean opsEqual(FtraceHash a, FtraceHash b) {
        if (FtraceHash.empty(a) && FtraceHash.empty(b)) {
            return true;
        }
        if (FtraceHash.countOf(a) != FtraceHash.countOf(b)) {
            return false;
        }
        for (long ip : a.ips()) {
            if (!b.contains(ip)) {
                return false;
            }
        }
        return true;
    }

    /** {@code ftrace_update_ops(ops, filter, EMPTY_HASH)} under {@code ftrace_lock}, as add and del call it. */
    void ftraceUpdateOps(FtraceOps ops, FtraceHash filter) {
        ctx.ftraceLock.lock();
        try {
            if (!opsEqual(filter, ops.funcHash.filter)) {
                hashMoveAndUpdateOps(ops, filter);
            }
        } finally {
            ctx.ftraceLock.unlock();
        }
    }

    /** {@code ftrace_free_filter}: frees an unregistered ops' filter. */
    public void freeFilter(FtraceOps ops) {
        try (Kernel.Operation op = kernel.beginOperation("ftrace_free_filter")) {
            opsInit(ops);
            if (ops.has(FtraceOps.ENABLED)) {
                kernel.log().warn("ftrace", "ftrace_free_filter: " + ops + " is still enabled");
                return;
            }
            FtraceHash f = ops.funcHash.filter;
            ops.funcHash.filter = null;
            freeHash(f);
        }
    }

    // ---------------------------------------------------------------------------------------
    // register_ftrace_function / unregister_ftrace_function

    /**
     * {@code register_ftrace_function}: puts {@code ops} on {@code ftrace_ops_list} and patches the
     * sites it traces. An IPMODIFY ops first asks the direct ops on its functions to share them.
     */
    public void registerFtraceFunction(FtraceOps ops) {
        try (Kernel.Operation op = kernel.beginOperation("register_ftrace_function")) {
            direct.directMutex().lock();
            try {
                opsInit(ops);
                direct.prepareDirectFunctionsForIpmodify(ops);
                registerFtraceFunctionNolock(ops);
            } finally {
                direct.directMutex().unlock();
            }
        }
    }

    /** {@code register_ftrace_function_nolock}: registers {@code ops}; the caller holds {@code direct_mutex}. */
    void registerFtraceFunctionNolock(FtraceOps ops) {
        opsInit(ops);
        ctx.ftraceLock.lock();
        try {
            opsList.startup(ops);
        } finally {
            ctx.ftraceLock.unlock();
        }
    }

    /**
     * {@code unregister_ftrace_function}: takes {@code ops} off the list and unpatches its sites; a
     * dynamically allocated ops then waits for tasks-rude and tasks RCU grace periods, since a CPU
     * may still be running its callback.
     */
    public void unregisterFtraceFunction(FtraceOps ops) {
        try (Kernel.Operation op = kernel.beginOperation("unregister_ftrace_function")) {
            unregisterFtraceFunction(ops, true);
        }
    }

    /** {@link #unregisterFtraceFunction(FtraceOps)}; {@code injectFaults} false for the modify paths' stub ops. */
    void unregisterFtraceFunction(FtraceOps ops, boolean injectFaults) {
        opsInit(ops);
        ctx.ftraceLock.lock();
        try {
            opsList.shutdown(ops, injectFaults);
        } finally {
            ctx.ftraceLock.unlock();
        }
        direct.cleanupDirectFunctionsAfterIpmodify(ops);
    }

    // ---------------------------------------------------------------------------------------
    // Classic direct API

    /**
     * {@code register_ftrace_direct}: every function in the filter of {@code ops} gets
     * {@code addr} as its direct trampoline, and {@code ops} is registered.
     *
     * @throws KernelException EINVAL if the ops is set up or registered already or its filter is
     *                         empty; EBUSY naming the function if one already has a direct
     *                         trampoline; ENOMEM; and the errors of registration
     */
    public void registerFtraceDirect(FtraceOps ops, CallTarget addr) {
        try (Kernel.Operation op = kernel.beginOperation("register_ftrace_direct")) {
            direct.register(ops, addr);
        }
    }

    /**
     * {@code unregister_ftrace_direct}: unregisters {@code ops} (with the grace periods of a dynamic
     * ops) and removes its functions from {@code direct_functions}; {@code freeFilters} also frees
     * its filter.
     */
    public void unregisterFtraceDirect(FtraceOps ops, CallTarget addr, boolean freeFilters) {
        try (Kernel.Operation op = kernel.beginOperation("unregister_ftrace_direct")) {
            direct.unregister(ops, addr, freeFilters);
        }
    }

    /**
     * {@code modify_ftrace_direct}: switches every function of {@code ops} to {@code addr}. A
     * static stub ops sharing the ops' filter is registered first, so each site has two ops and
     * goes through the list function, which reads {@code direct_functions}; the entries are then
     * changed in place and the stub unregistered, which patches the sites straight to {@code addr}.
     */
    public void modifyFtraceDirect(FtraceOps ops, CallTarget addr) {
        try (Kernel.Operation op = kernel.beginOperation("modify_ftrace_direct")) {
            direct.modify(ops, addr, true);
        }
    }

    /** {@code modify_ftrace_direct_nolock}: for a caller that holds {@link #directMutex()} (an ops_func). */
    public void modifyFtraceDirectNolock(FtraceOps ops, CallTarget addr) {
        try (Kernel.Operation op = kernel.beginOperation("modify_ftrace_direct_nolock")) {
            direct.modify(ops, addr, false);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Single-ops batch API

    /**
     * {@code update_ftrace_direct_add}: attaches every {@code ip -> direct} entry of {@code hash} to
     * {@code ops}, registering it on first use; callable again on the live ops. The new
     * {@code direct_functions} is published before any site is patched; on failure the old one is
     * restored. The caller keeps and frees {@code hash}.
     *
     * @throws KernelException EINVAL if {@code hash} is empty, an ip already has a direct
     *                         trampoline (named), or a first use finds the ops set up already;
     *                         EINVAL naming the function for an ip without a patch site; ENOMEM;
     *                         and the errors of registration or of the filter update
     */
    public void updateFtraceDirectAdd(FtraceOps ops, FtraceHash hash) {
        try (Kernel.Operation op = kernel.beginOperation("update_ftrace_direct_add")) {
            batch.add(ops, hash);
        }
    }

    /**
     * {@code update_ftrace_direct_del}: detaches the entries of {@code hash}, each of which must be
     * attached with the same direct address; the last one unregisters the ops. The new
     * {@code direct_functions} is published after the sites are patched, so they can still be
     * verified against their old targets.
     *
     * @throws KernelException EINVAL if {@code hash} is empty, the ops is not a registered direct
     *                         ops, or an ip is not attached with the same address (named);
     *                         ENOMEM (also, as in the kernel, for an ip attached through another
     *                         ops)
     */
    public void updateFtraceDirectDel(FtraceOps ops, FtraceHash hash) {
        try (Kernel.Operation op = kernel.beginOperation("update_ftrace_direct_del")) {
            batch.del(ops, hash);
        }
    }

    /**
     * {@code update_ftrace_direct_mod}: moves the entries of {@code hash}, already attached to
     * {@code ops}, to their new direct addresses: the batch form of {@link #modifyFtraceDirect},
     * with a static stub ops whose filter is {@code hash}. {@code doDirectLock} is false for a
     * caller that holds {@link #directMutex()} already (an {@code ops_func}).
     */
    public void updateFtraceDirectMod(FtraceOps ops, FtraceHash hash, boolean doDirectLock) {
        try (Kernel.Operation op = kernel.beginOperation("update_ftrace_direct_mod")) {
            batch.mod(ops, hash, doDirectLock);
        }
    }

    /** {@code direct_mutex}, for callers of the {@code _nolock} variants (an {@code ops_func}). */
    public ReentrantLock directMutex() {
        return direct.directMutex();
    }

    // ---------------------------------------------------------------------------------------
    // Inspection

    /** A snapshot of the cost counters. */
    public FtraceCosts costs() {
        return FtraceCosts.of(ctx.costs, ctx.poker);
    }

    /** The registered ops, head of {@code ftrace_ops_list} first. */
    public List<FtraceOps> opsList() {
        return List.of(ctx.opsList);
    }

    /** The number of entries in {@code direct_functions}. */
    public int directFunctionCount() {
        return ctx.directFunctions.count();
    }

    /**
     * Whether {@code direct_functions} is a hash of its own rather than the shared empty hash:
     * after the first update it always is, a hash with no entries once the last one is deleted (as
     * {@code update_ftrace_direct_del} leaves the kernel's), so a leak check counts it as ftrace's
     * own state.
     */
    public boolean directFunctionsAllocated() {
        return ctx.directFunctions != ctx.emptyHash;
    }

    /** {@code ftrace_caller}: what a site traced only by callbacks without regs calls. */
    public CallTarget ftraceCaller() {
        return callers.ftraceCaller;
    }

    /** {@code ftrace_regs_caller}: what a site traced by several ops, one wanting regs, calls. */
    public CallTarget ftraceRegsCaller() {
        return callers.ftraceRegsCaller;
    }

    @Override
    public String toString() {
        return "ftrace[" + records.count() + " records, " + ctx.opsList.length + " ops, " + ctx.directFunctions.count() + " direct]";
    }
}
