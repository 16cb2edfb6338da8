package dev.gtramp.ftrace;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.EntrySite;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Frame;
import dev.gtramp.kernel.FunctionBody;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.PaddingInsn;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.fault.FaultPoint;
import dev.gtramp.kernel.image.ImageFunction;
import dev.gtramp.kernel.mm.Allocator;
import dev.gtramp.kernel.rcu.RcuReader;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLongArray;
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
 */
public final class Ftrace {
    static final int FTRACE_UPDATE_CALLS = 1;
    static final int FTRACE_UPDATE_TRACE_FUNC = 1 << 2;
    static final int UPDATE_IGNORE = 0;
    static final int UPDATE_MAKE_CALL = 1;
    static final int UPDATE_MODIFY_CALL = 2;
    static final int UPDATE_MAKE_NOP = 3;
    /** The size bits {@code ftrace_set_hash} allocates a filter with. */
    private static final int FILTER_HASH_BITS = 10;

    private final Kernel kernel;
    private final Allocator allocator;
    private final AtomicLongArray costs = new AtomicLongArray(Cost.values().length);
    private final TextPoker poker;
    /** {@code ftrace_lock}: ops list, record flags, code patching. */
    private final ReentrantLock ftraceLock = new ReentrantLock();
    /** {@code direct_mutex}: writers of {@code direct_functions}. */
    private final ReentrantLock directMutex = new ReentrantLock();
    private final FaultPoint verifyPoint;
    private final boolean freeDirectHashAtOnce;
    private final boolean modWithoutStubOps;

    /** Records sorted by ip ({@code ftrace_pages}); index = position. */
    private final DynFtrace[] records;
    private final long[] recordIps;
    /** {@code EMPTY_HASH}: live for the kernel's lifetime, never freed. */
    private final FtraceHash emptyHash;
    /** {@code direct_functions}: replaced copy-on-write, read on the call path. */
    private volatile FtraceHash directFunctions;
    /** {@code ftrace_ops_list}, head first; replaced copy-on-write, read by the list function. */
    private volatile FtraceOps[] opsList = new FtraceOps[0];
    /** What the {@code ftrace_call}/{@code ftrace_regs_call} sites call now, and the op they pass. */
    private volatile FtraceFunc ftraceCall;
    private volatile FtraceOps functionTraceOp;
    // Under ftrace_lock:
    private FtraceFunc ftraceTraceFunction;
    private FtraceOps setFunctionTraceOp;
    private FtraceFunc savedFtraceFunc;
    private FtraceFunc updateFuncSaved;
    private int ftraceStartUp;
    private final FtraceOps modifyTmpOps;
    private final FtraceOps batchModTmpOps;

    private final FtraceRegs[] regs;
    private final CallTarget ftraceCaller;
    private final CallTarget ftraceRegsCaller;
    private final FtraceFunc listFunc;
    private final FtraceFunc stubFunc;
    private final FtraceFunc callDirectFuncs;

    private Ftrace(Kernel kernel) {
        this.kernel = kernel;
        this.allocator = kernel.allocator();
        this.poker = new TextPoker(kernel, costs);
        this.verifyPoint = kernel.faults().point("ftrace:verify_code");
        this.freeDirectHashAtOnce = kernel.config().unsafeVariants().contains(UnsafeVariant.DIRECT_HASH_FREE_WITHOUT_TASKS_RCU);
        this.modWithoutStubOps = kernel.config().unsafeVariants().contains(UnsafeVariant.DIRECT_MOD_WITHOUT_STUB_OPS);
        List<DynFtrace> recs = new ArrayList<>();
        long lastIp = 0;
        List<KernelFunction> byIp = new ArrayList<>(kernel.functions());
        byIp.sort((a, b) -> Long.compare(a.ip(), b.ip()));
        for (KernelFunction f : byIp) {
            if (f.isTraceable() && f.ip() != lastIp) {
                recs.add(new DynFtrace(f));
                lastIp = f.ip();
            }
        }
        this.records = recs.toArray(new DynFtrace[0]);
        this.recordIps = new long[records.length];
        for (int i = 0; i < records.length; i++) {
            recordIps[i] = records[i].ip();
        }
        this.emptyHash = allocator.alloc(new FtraceHash(0, 1));
        this.directFunctions = emptyHash;
        this.stubFunc = (ip, parentIp, op, r) -> { };
        this.listFunc = this::listFunc;
        this.callDirectFuncs = this::callDirectFuncs;
        this.ftraceCall = stubFunc;
        this.ftraceTraceFunction = stubFunc;
        this.savedFtraceFunc = stubFunc;
        this.updateFuncSaved = stubFunc;
        this.modifyTmpOps = FtraceOps.staticCallback("tmp_ops(modify_ftrace_direct)", stubFunc, FtraceOps.STUB);
        this.batchModTmpOps = FtraceOps.staticCallback("tmp_ops(update_ftrace_direct_mod)", stubFunc, FtraceOps.STUB);
        this.regs = new FtraceRegs[kernel.cpuCount() * Cpu.MAX_CALL_DEPTH];
        for (int i = 0; i < regs.length; i++) {
            regs[i] = new FtraceRegs();
        }
        this.ftraceCaller = new Caller(false);
        this.ftraceRegsCaller = new Caller(true);
    }

    /** The ftrace subsystem of {@code kernel}, created on first use. */
    public static Ftrace of(Kernel kernel) {
        return kernel.subsystem(Ftrace.class, Ftrace::new);
    }

    public Kernel kernel() {
        return kernel;
    }

    // ---------------------------------------------------------------------------------------
    // The call path

    /** {@code ftrace_caller} / {@code ftrace_regs_caller}: the trampoline shared by all ops. */
    private final class Caller implements CallTarget {
        private final boolean withRegs;

        Caller(boolean withRegs) {
            this.withRegs = withRegs;
        }

        @Override
        public long enter(Frame frame) {
            Cpu cpu = frame.cpu();
            FtraceRegs r = regs[cpu.id() * Cpu.MAX_CALL_DEPTH + cpu.depth() - 1];
            r.reset(frame, withRegs);
            CallTarget direct;
            FunctionBody modified;
            try {
                // ftrace_call: a patched call instruction, read once like the CPU fetches it.
                ftraceCall.call(frame.ip(), 0, functionTraceOp, r);
                // Only ftrace_regs_caller tests orig_ax (the ftrace_regs_caller_jmp branch).
                direct = withRegs ? r.directCaller() : null;
                modified = r.ipModified();
            } finally {
                r.clear();
            }
            if (direct != null) {
                return direct.enter(frame);
            }
            return modified != null ? modified.run(frame) : frame.callOrigin();
        }

        @Override
        public String toString() {
            return withRegs ? "ftrace_regs_caller" : "ftrace_caller";
        }
    }

    /**
     * {@code ftrace_ops_list_func}: every registered ops that traces {@code ip} gets its callback.
     * The walk is an RCU read-side section (the kernel disables preemption); ops are removed
     * copy-on-write and freed only after the grace periods of {@code ftrace_shutdown}.
     */
    private void listFunc(long ip, long parentIp, FtraceOps ignored, FtraceRegs r) {
        RcuReader rcu = r.frame().cpu().rcu();
        rcu.lock();
        try {
            boolean full = r.hasFullRegs();
            for (FtraceOps op : opsList) {
                int fl = op.flags;
                if ((fl & FtraceOps.STUB) != 0) {
                    continue;
                }
                if (opsTest(op, fl, ip, full)) {
                    FtraceFunc fn = op.func;
                    if (fn != null) {
                        fn.call(ip, parentIp, op, r);
                    }
                }
            }
        } finally {
            rcu.unlock();
        }
    }

    /** {@code call_direct_funcs}: the callback of every direct ops (single-ops build: per-ip lookup). */
    private void callDirectFuncs(long ip, long parentIp, FtraceOps op, FtraceRegs r) {
        CallTarget addr = findRecDirect(ip);
        if (addr != null) {
            r.setDirectCaller(addr);
        }
    }

    /** {@code ftrace_ops_test}: whether {@code op} traces {@code ip} on a caller with or without full regs. */
    private static boolean opsTest(FtraceOps op, int flags, long ip, boolean fullRegs) {
        if (!fullRegs && (flags & FtraceOps.SAVE_REGS) != 0) {
            return false;
        }
        return hashContainsIp(ip, op.funcHash);
    }

    private static boolean hashContainsIp(long ip, FtraceOps.OpsHash h) {
        FtraceHash filter = h.filter;
        return (filter == null || filter.count() == 0 || filter.contains(ip)) && !inNotrace(ip, h);
    }

    private static boolean inNotrace(long ip, FtraceOps.OpsHash h) {
        FtraceHash notrace = h.notrace;
        return notrace != null && notrace.count() != 0 && notrace.contains(ip);
    }

    /**
     * {@code ftrace_find_rec_direct}: the direct trampoline of {@code ip}, or {@code null}. Lock-free;
     * the hash is protected by tasks RCU for readers on the call path.
     */
    public CallTarget findRecDirect(long ip) {
        return directFunctions.findDirect(ip);
    }

    // ---------------------------------------------------------------------------------------
    // Records

    /** {@code ftrace_location}: {@code ip} if a patch site starts there, else 0. */
    public long ftraceLocation(long ip) {
        return Arrays.binarySearch(recordIps, ip) >= 0 ? ip : 0;
    }

    /** The record of the site at {@code ip}. */
    public Optional<DynFtrace> record(long ip) {
        int i = Arrays.binarySearch(recordIps, ip);
        return i < 0 ? Optional.empty() : Optional.of(records[i]);
    }

    /** The number of patch sites. */
    public int recordCount() {
        return records.length;
    }

    /** The records with a non-zero count, in address order. */
    public List<DynFtrace> enabledRecords() {
        List<DynFtrace> out = new ArrayList<>();
        for (DynFtrace r : records) {
            if (r.flags != 0 && (r.flags & ~DynFtrace.NOCLEAR_FLAGS) != 0) {
                out.add(r);
            }
        }
        return out;
    }

    private DynFtrace rec(long ip) {
        int i = Arrays.binarySearch(recordIps, ip);
        return i < 0 ? null : records[i];
    }

    /** The ip's function name and why it has no patch site, for error messages. */
    private String describeIp(long ip) {
        Optional<ImageFunction> f = kernel.image().functionAt(ip);
        if (f.isEmpty()) {
            return String.format("%#x (no function starts there)", ip);
        }
        ImageFunction fn = f.get();
        return String.format("%s [%#x]", fn.name(), ip) + (fn.isTraceable() ? "" : " (not traceable: " + fn.decision().reason() + ")");
    }

    private String fn(long ip) {
        DynFtrace r = rec(ip);
        return r != null ? String.format("%s [%#x]", r.function().name(), ip) : describeIp(ip);
    }

    // ---------------------------------------------------------------------------------------
    // Hashes

    /** {@code alloc_ftrace_hash}: an empty hash the caller fills and frees with {@link #freeHash}. */
    public FtraceHash allocHash(int sizeBits) {
        FtraceHash h = allocator.alloc(new FtraceHash(sizeBits, 1 << Math.max(0, Math.min(sizeBits, FtraceHash.FTRACE_HASH_MAX_BITS))));
        costs.incrementAndGet(Cost.HASHES_ALLOCATED.ordinal());
        return h;
    }

    /** An empty hash sized for {@code expected} entries. */
    public FtraceHash allocHashFor(int expected) {
        FtraceHash h = allocator.alloc(new FtraceHash(fls(expected), expected));
        costs.incrementAndGet(Cost.HASHES_ALLOCATED.ordinal());
        return h;
    }

    /** {@code free_ftrace_hash}: frees a hash (no-op for {@code null} or the empty hash). */
    public void freeHash(FtraceHash h) {
        if (h != null && h != emptyHash) {
            allocator.free(h);
        }
    }

    private FtraceHash allocAndCopy(int sizeBits, FtraceHash from, int extra) {
        int n = count(from);
        FtraceHash h = allocator.alloc(new FtraceHash(sizeBits, n + extra));
        costs.incrementAndGet(Cost.HASHES_ALLOCATED.ordinal());
        if (n > 0) {
            h.copyFrom(from);
            costs.addAndGet(Cost.HASH_ENTRIES_COPIED.ordinal(), n);
        }
        return h;
    }

    /** {@code hash_add(a, b)}: a new hash with the entries of both. */
    private FtraceHash hashAdd(FtraceHash a, FtraceHash b) {
        int size = Math.min(count(a) + count(b), 32);
        FtraceHash h = allocAndCopy(fls(size), a, count(b));
        try {
            for (long ip : b.ips()) {
                h.add(ip, b.findDirect(ip));
            }
        } catch (RuntimeException e) {
            freeHash(h);
            throw e;
        }
        costs.addAndGet(Cost.HASH_ENTRIES_COPIED.ordinal(), count(b));
        return h;
    }

    /** {@code hash_sub(a, b)}: a new hash with the entries of {@code a} not in {@code b}. */
    private FtraceHash hashSub(FtraceHash a, FtraceHash b, FtraceOps ops) {
        FtraceHash h = allocAndCopy(a.sizeBits(), a, 0);
        for (long ip : b.ips()) {
            if (!h.remove(ip)) {
                freeHash(h);
                // The kernel's WARN_ON_ONCE in hash_sub; update_ftrace_direct_del reports -ENOMEM.
                throw new KernelException(Errno.ENOMEM, fn(ip) + " is not in the filter of " + ops
                        + " (it is attached through another ops); hash_sub fails");
            }
        }
        return h;
    }

    private static int count(FtraceHash h) {
        return h == null ? 0 : h.count();
    }

    private static boolean empty(FtraceHash h) {
        return h == null || h.count() == 0;
    }

    /** {@code fls}: the position of the highest set bit, 1-based; 0 for 0. */
    private static int fls(int x) {
        return 32 - Integer.numberOfLeadingZeros(x);
    }

    private void freeHashRcu(FtraceHash h) {
        if (h != null && h != emptyHash) {
            costs.incrementAndGet(Cost.CALL_RCU.ordinal());
            kernel.rcu().call(() -> allocator.free(h));
        }
    }

    /** {@code call_rcu_tasks(register_ftrace_direct_cb)} for a replaced {@code direct_functions}. */
    private void freeDirectFunctionsLater(FtraceHash old) {
        if (old == null || old == emptyHash) {
            return;
        }
        if (freeDirectHashAtOnce) {
            allocator.free(old);
            return;
        }
        costs.incrementAndGet(Cost.CALL_RCU_TASKS.ordinal());
        kernel.tasksRcu().call(() -> allocator.free(old));
    }

    // ---------------------------------------------------------------------------------------
    // Undo log: every mutation of an update registers its inverse, run in reverse on failure.

    private static final class Change {
        final BitSet dirty = new BitSet();
        final BitSet saved = new BitSet();
        final List<Runnable> undo = new ArrayList<>();

        void saveRec(DynFtrace r, int index) {
            if (!saved.get(index)) {
                saved.set(index);
                int old = r.flags;
                undo.add(() -> r.flags = old);
            }
        }

        void onUndo(Runnable r) {
            undo.add(r);
        }

        void rollback() {
            for (int i = undo.size() - 1; i >= 0; i--) {
                undo.get(i).run();
            }
            undo.clear();
        }
    }

    // ---------------------------------------------------------------------------------------
    // Record accounting (__ftrace_hash_rec_update, ftrace_check_record)

    private boolean hashRecUpdate(FtraceOps ops, boolean inc, Change ch) {
        if (!ops.has(FtraceOps.ENABLED)) {
            return false;
        }
        FtraceOps.OpsHash h = ops.funcHash;
        FtraceHash hash = h.filter;
        boolean update = false;
        if (empty(hash)) {
            for (int i = 0; i < records.length; i++) {
                if (!inNotrace(recordIps[i], h)) {
                    update |= recUpdate(records[i], i, ops, inc, ch);
                }
            }
        } else {
            for (long ip : hash.ips()) {
                int i = Arrays.binarySearch(recordIps, ip);
                if (i >= 0 && !inNotrace(ip, h)) {
                    update |= recUpdate(records[i], i, ops, inc, ch);
                }
            }
        }
        return update;
    }

    private boolean recUpdate(DynFtrace rec, int index, FtraceOps ops, boolean inc, Change ch) {
        int f = rec.flags;
        if ((f & DynFtrace.DISABLED) != 0 && (f & DynFtrace.ENABLED) == 0) {
            return false;
        }
        ch.saveRec(rec, index);
        int cnt = f & DynFtrace.FTRACE_REF_MAX;
        if (inc) {
            if (cnt == DynFtrace.FTRACE_REF_MAX) {
                throw new KernelException(Errno.EBUSY, fn(rec.ip()) + " is traced by " + cnt + " ops, FTRACE_REF_MAX");
            }
            f++;
            cnt++;
            if (ops.has(FtraceOps.DIRECT)) {
                f |= DynFtrace.DIRECT;
            }
            f = cnt == 1 && ops.trampoline != null ? f | DynFtrace.TRAMP : f & ~DynFtrace.TRAMP;
            if (ops.has(FtraceOps.SAVE_REGS)) {
                f |= DynFtrace.REGS;
            }
        } else {
            if (cnt == 0) {
                throw new KernelException(Errno.EINVAL, fn(rec.ip()) + ": record count underflow removing " + ops);
            }
            f--;
            cnt--;
            if (ops.has(FtraceOps.DIRECT)) {
                f &= ~DynFtrace.DIRECT;
            }
            if (cnt > 0 && (f & DynFtrace.REGS) != 0 && ops.has(FtraceOps.SAVE_REGS) && !recOpsNeedRegs(rec.ip())) {
                f &= ~DynFtrace.REGS;
            }
            f = cnt == 1 && findTrampOpsAnyOther(rec.ip(), ops) != null ? f | DynFtrace.TRAMP : f & ~DynFtrace.TRAMP;
        }
        rec.flags = f;
        ch.dirty.set(index);
        costs.incrementAndGet(Cost.RECORD_UPDATES.ordinal());
        return checkRecord(rec, false) != UPDATE_IGNORE;
    }

    private boolean recOpsNeedRegs(long ip) {
        for (FtraceOps op : opsList) {
            if (op.has(FtraceOps.SAVE_REGS) && hashContainsIp(ip, op.funcHash)) {
                return true;
            }
        }
        return false;
    }

    private FtraceOps findTrampOpsAnyOther(long ip, FtraceOps exclude) {
        for (FtraceOps op : opsList) {
            if (op != exclude && op.trampoline != null && hashContainsIp(ip, op.funcHash)) {
                return op;
            }
        }
        return null;
    }

    /** {@code ftrace_check_record(rec, enable = 1, update)}. */
    private static int checkRecord(DynFtrace rec, boolean update) {
        int f = rec.flags;
        if ((f & DynFtrace.DISABLED) != 0 && (f & DynFtrace.ENABLED) == 0) {
            return UPDATE_IGNORE;
        }
        int cnt = f & DynFtrace.FTRACE_REF_MAX;
        int flag = 0;
        if (cnt != 0) {
            flag = DynFtrace.ENABLED;
            if (((f & DynFtrace.REGS) != 0) != ((f & DynFtrace.REGS_EN) != 0)) {
                flag |= DynFtrace.REGS;
            }
            if (((f & DynFtrace.TRAMP) != 0) != ((f & DynFtrace.TRAMP_EN) != 0)) {
                flag |= DynFtrace.TRAMP;
            }
            if (cnt == 1) {
                if (((f & DynFtrace.DIRECT) != 0) != ((f & DynFtrace.DIRECT_EN) != 0)) {
                    flag |= DynFtrace.DIRECT;
                }
            } else if ((f & DynFtrace.DIRECT_EN) != 0) {
                flag |= DynFtrace.DIRECT;
            }
        }
        if ((f & DynFtrace.ENABLED) == flag) {
            return UPDATE_IGNORE;
        }
        if (flag != 0) {
            flag ^= f & DynFtrace.ENABLED;
            if (update) {
                f |= DynFtrace.ENABLED | DynFtrace.TOUCHED;
                if ((flag & DynFtrace.REGS) != 0) {
                    f = (f & DynFtrace.REGS) != 0 ? f | DynFtrace.REGS_EN : f & ~DynFtrace.REGS_EN;
                }
                if ((flag & DynFtrace.TRAMP) != 0) {
                    f = (f & DynFtrace.TRAMP) != 0 ? f | DynFtrace.TRAMP_EN : f & ~DynFtrace.TRAMP_EN;
                }
                if ((f & (DynFtrace.DIRECT | DynFtrace.IPMODIFY)) != 0) {
                    f |= DynFtrace.MODIFIED;
                }
                if ((flag & DynFtrace.DIRECT) != 0) {
                    f = cnt == 1 && (f & DynFtrace.DIRECT) != 0 ? f | DynFtrace.DIRECT_EN : f & ~DynFtrace.DIRECT_EN;
                }
                rec.flags = f;
            }
            return (flag & DynFtrace.ENABLED) != 0 ? UPDATE_MAKE_CALL : UPDATE_MODIFY_CALL;
        }
        if (update) {
            rec.flags = cnt == 0 ? f & DynFtrace.NOCLEAR_FLAGS
                    : f & ~(DynFtrace.ENABLED | DynFtrace.TRAMP_EN | DynFtrace.REGS_EN | DynFtrace.DIRECT_EN | DynFtrace.CALL_OPS_EN);
        }
        return UPDATE_MAKE_NOP;
    }

    /** {@code ftrace_get_addr_new}: what the site should call, from the wanted flags. */
    private CallTarget addrNew(DynFtrace rec) {
        int f = rec.flags;
        if ((f & DynFtrace.DIRECT) != 0 && (f & DynFtrace.FTRACE_REF_MAX) == 1) {
            CallTarget a = findRecDirect(rec.ip());
            if (a != null) {
                return a;
            }
            kernel.log().warn("ftrace", "WARN_ON_ONCE: no direct_functions entry for " + fn(rec.ip()));
        }
        if ((f & DynFtrace.TRAMP) != 0) {
            for (FtraceOps op : opsList) {
                if (op.trampoline != null && hashContainsIp(rec.ip(), op.funcHash)) {
                    return op.trampoline;
                }
            }
            kernel.log().warn("ftrace", "No trampoline found for " + fn(rec.ip()));
            return ftraceCaller;
        }
        return (f & DynFtrace.REGS) != 0 ? ftraceRegsCaller : ftraceCaller;
    }

    /**
     * {@code ftrace_get_addr_curr}: what the site calls now, from the {@code _EN} flags. Only direct
     * ops have trampolines in the model, and theirs is the regs caller.
     */
    private CallTarget addrCurr(DynFtrace rec) {
        int f = rec.flags;
        if ((f & DynFtrace.DIRECT_EN) != 0) {
            CallTarget a = findRecDirect(rec.ip());
            if (a != null) {
                return a;
            }
        }
        if ((f & DynFtrace.TRAMP_EN) != 0) {
            return ftraceRegsCaller;
        }
        return (f & DynFtrace.REGS_EN) != 0 ? ftraceRegsCaller : ftraceCaller;
    }

    // ---------------------------------------------------------------------------------------
    // Code patching (ftrace_run_update_code -> ftrace_modify_all_code -> ftrace_replace_code)

    private record Patch(DynFtrace rec, CallTarget target) {
    }

    /** The read-only first pass of x86 {@code ftrace_replace_code}: plan and verify every site. */
    private List<Patch> planReplace(Change ch, boolean injectFaults) {
        List<Patch> plan = new ArrayList<>();
        for (int i = ch.dirty.nextSetBit(0); i >= 0; i = ch.dirty.nextSetBit(i + 1)) {
            DynFtrace rec = records[i];
            int action = checkRecord(rec, false);
            if (action == UPDATE_IGNORE) {
                continue;
            }
            CallTarget expected = action == UPDATE_MAKE_CALL ? null : addrCurr(rec);
            CallTarget found = rec.site().read();
            if ((injectFaults && verifyPoint.shouldFail()) || found != expected) {
                String msg = String.format("ftrace failed to modify %s: expected %s, found %s",
                        fn(rec.ip()), expected == null ? "nop" : "call " + expected, found == null ? "nop" : "call " + found);
                kernel.log().error("ftrace", "ftrace_bug: " + msg);
                throw new KernelException(Errno.EFAULT, msg);
            }
            plan.add(new Patch(rec, action == UPDATE_MAKE_NOP ? null : addrNew(rec)));
        }
        return plan;
    }

    /** {@code ftrace_run_update_code}. Caller holds {@code ftrace_lock}. */
    private void runUpdateCode(int command, Change ch) {
        runUpdateCode(command, ch, true);
    }

    /**
     * {@code ftrace_run_update_code}; {@code injectFaults} false for an update the kernel cannot see
     * fail (undoing the modify trick's stub ops). Caller holds {@code ftrace_lock}.
     */
    private void runUpdateCode(int command, Change ch, boolean injectFaults) {
        ReentrantLock textMutex = poker.textMutex();
        textMutex.lock();
        try {
            List<Patch> plan = (command & FTRACE_UPDATE_CALLS) != 0 ? planReplace(ch, injectFaults) : List.of();
            boolean update = (command & FTRACE_UPDATE_TRACE_FUNC) != 0;
            if (update) {
                updateFtraceFunc(listFunc);
            }
            for (Patch p : plan) {
                poker.queue(p.rec().site(), p.target());
                checkRecord(p.rec(), true);
            }
            poker.finish();
            if (update && ftraceTraceFunction != listFunc) {
                functionTraceOp = setFunctionTraceOp;
                // smp_call_function(ftrace_sync_ipi): every CPU sees function_trace_op first.
                kernel.syncCores();
                costs.incrementAndGet(Cost.SYNC_IPIS.ordinal());
                updateFtraceFunc(ftraceTraceFunction);
            }
        } finally {
            textMutex.unlock();
        }
    }

    /** {@code update_ftrace_func}: re-points {@code ftrace_call} and {@code ftrace_regs_call}. */
    private void updateFtraceFunc(FtraceFunc func) {
        if (func == updateFuncSaved) {
            return;
        }
        updateFuncSaved = func;
        ftraceCall = func;
        costs.incrementAndGet(Cost.TRACE_FUNC_UPDATES.ordinal());
        poker.singleBatchSyncs();
        poker.singleBatchSyncs();
    }

    /** {@code update_ftrace_function}: what {@code ftrace_call} should call for the current ops list. */
    private void updateFtraceFunction() {
        FtraceOps[] list = opsList;
        if (list.length == 0) {
            setFunctionTraceOp = null;
            ftraceTraceFunction = stubFunc;
        } else if (list.length == 1) {
            FtraceOps op = list[0];
            setFunctionTraceOp = op;
            ftraceTraceFunction = op.has(FtraceOps.DYNAMIC) || op.has(FtraceOps.RCU) ? listFunc : op.func;
        } else {
            setFunctionTraceOp = null;
            ftraceTraceFunction = listFunc;
        }
    }

    // ---------------------------------------------------------------------------------------
    // ftrace_startup / ftrace_shutdown

    private void opsInit(FtraceOps ops) {
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

    private void addOps(FtraceOps ops, Change ch) {
        FtraceOps[] old = opsList;
        FtraceOps[] list = new FtraceOps[old.length + 1];
        list[0] = ops;
        System.arraycopy(old, 0, list, 1, old.length);
        opsList = list;
        ch.onUndo(() -> opsList = old);
    }

    private boolean removeOps(FtraceOps ops, Change ch) {
        FtraceOps[] old = opsList;
        int at = -1;
        for (int i = 0; i < old.length; i++) {
            if (old[i] == ops) {
                at = i;
                break;
            }
        }
        if (at < 0) {
            return false;
        }
        FtraceOps[] list = new FtraceOps[old.length - 1];
        System.arraycopy(old, 0, list, 0, at);
        System.arraycopy(old, at + 1, list, at, list.length - at);
        opsList = list;
        ch.onUndo(() -> opsList = old);
        return true;
    }

    private void saveFlagsAndFunc(FtraceOps ops, Change ch) {
        int flags = ops.flags;
        FtraceFunc func = ops.func;
        FtraceFunc saved = ops.savedFunc;
        FtraceFunc traceFn = ftraceTraceFunction;
        FtraceOps traceOp = setFunctionTraceOp;
        FtraceFunc savedTrace = savedFtraceFunc;
        int startUp = ftraceStartUp;
        ch.onUndo(() -> {
            ops.flags = flags;
            ops.func = func;
            ops.savedFunc = saved;
            ftraceTraceFunction = traceFn;
            setFunctionTraceOp = traceOp;
            savedFtraceFunc = savedTrace;
            ftraceStartUp = startUp;
        });
    }

    /** {@code ftrace_startup}. Caller holds {@code ftrace_lock}. */
    private void ftraceStartup(FtraceOps ops) {
        if (ops.has(FtraceOps.DELETED)) {
            throw new KernelException(Errno.EINVAL, ops + " is deleted");
        }
        if (ops.has(FtraceOps.ENABLED)) {
            throw new KernelException(Errno.EBUSY, ops + " is already registered");
        }
        Change ch = new Change();
        saveFlagsAndFunc(ops, ch);
        try {
            if (!ops.isCoreKernelData()) {
                ops.set(FtraceOps.DYNAMIC);
            }
            addOps(ops, ch);
            ops.savedFunc = ops.func;
            updateFtraceFunction();
            ftraceStartUp++;
            ops.set(FtraceOps.ENABLED | FtraceOps.ADDING);
            FtraceHash filter = ops.funcHash.filter;
            hashUpdateIpmodify(ops, emptyHash, empty(filter) ? null : filter, false, ch);
            int command = hashRecUpdate(ops, true, ch) ? FTRACE_UPDATE_CALLS : 0;
            if (savedFtraceFunc != ftraceTraceFunction) {
                savedFtraceFunc = ftraceTraceFunction;
                command |= FTRACE_UPDATE_TRACE_FUNC;
            }
            if (command != 0) {
                runUpdateCode(command, ch);
            }
            ops.clear(FtraceOps.ADDING);
            costs.incrementAndGet(Cost.OPS_REGISTERED.ordinal());
        } catch (RuntimeException e) {
            ch.rollback();
            throw e;
        }
    }

    /** {@code ftrace_shutdown}. Caller holds {@code ftrace_lock}. */
    private void ftraceShutdown(FtraceOps ops, boolean injectFaults) {
        if (!ops.has(FtraceOps.ENABLED)) {
            throw new KernelException(Errno.EBUSY, ops + " is not registered");
        }
        Change ch = new Change();
        saveFlagsAndFunc(ops, ch);
        try {
            if (!removeOps(ops, ch)) {
                throw new KernelException(Errno.EINVAL, ops + " is not on ftrace_ops_list");
            }
            updateFtraceFunction();
            ops.func = ops.savedFunc;
            ftraceStartUp--;
            FtraceHash filter = ops.funcHash.filter;
            if (!empty(filter)) {
                // ftrace_hash_ipmodify_disable; its result is ignored, and it cannot fail here.
                hashUpdateIpmodify(ops, filter, emptyHash, false, ch);
            }
            int command = hashRecUpdate(ops, false, ch) ? FTRACE_UPDATE_CALLS : 0;
            ops.clear(FtraceOps.ENABLED);
            if (savedFtraceFunc != ftraceTraceFunction) {
                savedFtraceFunc = ftraceTraceFunction;
                command |= FTRACE_UPDATE_TRACE_FUNC;
            }
            if (command != 0) {
                ops.set(FtraceOps.REMOVING);
                try {
                    runUpdateCode(command, ch, injectFaults);
                } finally {
                    ops.clear(FtraceOps.REMOVING);
                }
            }
        } catch (RuntimeException e) {
            ch.rollback();
            throw e;
        }
        costs.incrementAndGet(Cost.OPS_UNREGISTERED.ordinal());
        if (ops.has(FtraceOps.DYNAMIC)) {
            // Callers may still be in the list function under preempt_disable (rude), or
            // preempted on a trampoline (tasks), holding this ops.
            synchronize(Cost.GRACE_PERIODS_TASKS_RUDE);
            synchronize(Cost.GRACE_PERIODS_TASKS);
        }
    }

    private void synchronize(Cost flavor) {
        switch (flavor) {
            case GRACE_PERIODS_RCU -> kernel.rcu().synchronize();
            // Tasks-rude RCU waits for every CPU to schedule; the model's tasks RCU waits for every
            // CPU to leave its outermost call, which implies it.
            case GRACE_PERIODS_TASKS, GRACE_PERIODS_TASKS_RUDE -> kernel.tasksRcu().synchronize();
            default -> throw new IllegalArgumentException(flavor.toString());
        }
        costs.incrementAndGet(flavor.ordinal());
    }

    // ---------------------------------------------------------------------------------------
    // IPMODIFY negotiation

    /**
     * {@code __ftrace_hash_update_ipmodify}: {@code null} hashes mean "every function" (refused),
     * {@code emptyHash} none.
     */
    private void hashUpdateIpmodify(FtraceOps ops, FtraceHash oldHash, FtraceHash newHash, boolean updateTarget, Change ch) {
        if (!ops.has(FtraceOps.ENABLED)) {
            return;
        }
        boolean isIpmodify = ops.has(FtraceOps.IPMODIFY);
        boolean isDirect = ops.has(FtraceOps.DIRECT);
        if (!isIpmodify && !isDirect) {
            return;
        }
        if (isIpmodify && isDirect) {
            kernel.log().warn("ftrace", "WARN_ON_ONCE: " + ops + " is both IPMODIFY and DIRECT");
            return;
        }
        if (oldHash == null || newHash == null) {
            throw new KernelException(Errno.EINVAL, ops + " is " + (isDirect ? "DIRECT" : "IPMODIFY")
                    + " and may not trace every function: give it a filter");
        }
        long[] ips = union(oldHash.ips(), newHash.ips());
        List<Runnable> local = new ArrayList<>();
        for (long ip : ips) {
            int i = Arrays.binarySearch(recordIps, ip);
            if (i < 0) {
                continue;
            }
            DynFtrace rec = records[i];
            boolean inOld = oldHash.contains(ip);
            boolean inNew = newHash.contains(ip);
            if (!updateTarget && inOld == inNew) {
                continue;
            }
            if (inNew) {
                if (rec.has(DynFtrace.IPMODIFY)) {
                    if (isIpmodify) {
                        for (int k = local.size() - 1; k >= 0; k--) {
                            local.get(k).run();
                        }
                        throw new KernelException(Errno.EBUSY, fn(ip) + " already has an IPMODIFY ops; " + ops + " cannot modify it too");
                    }
                    if (ops.opsFunc == null) {
                        throw new KernelException(Errno.EBUSY, fn(ip) + " has an IPMODIFY ops and " + ops + " has no ops_func to share it");
                    }
                    int ret = ops.opsFunc.apply(ops, ip, OpsCmd.ENABLE_SHARE_IPMODIFY_SELF);
                    if (ret != 0) {
                        throw new KernelException(Errno.of(ret), "ops_func of " + ops + " answered " + Errno.of(ret)
                                + " to ENABLE_SHARE_IPMODIFY_SELF for " + fn(ip));
                    }
                } else if (isIpmodify) {
                    ch.saveRec(rec, i);
                    int old = rec.flags;
                    rec.flags = old | DynFtrace.IPMODIFY;
                    local.add(() -> rec.flags = old);
                }
            } else if (isIpmodify) {
                ch.saveRec(rec, i);
                int old = rec.flags;
                rec.flags = old & ~DynFtrace.IPMODIFY;
                local.add(() -> rec.flags = old);
            }
        }
    }

    private static long[] union(long[] a, long[] b) {
        long[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        Arrays.sort(all);
        int n = 0;
        for (int i = 0; i < all.length; i++) {
            if (n == 0 || all[n - 1] != all[i]) {
                all[n++] = all[i];
            }
        }
        return Arrays.copyOf(all, n);
    }

    /** A direct ops that is enabled and traces {@code ip} ({@code ops_references_ip}). */
    private FtraceOps directOpsAt(long ip) {
        ftraceLock.lock();
        try {
            for (FtraceOps op : opsList) {
                if (op.has(FtraceOps.DIRECT) && op.has(FtraceOps.ENABLED) && hashContainsIp(ip, op.funcHash)) {
                    return op;
                }
            }
            return null;
        } finally {
            ftraceLock.unlock();
        }
    }

    /** {@code prepare_direct_functions_for_ipmodify}. Caller holds {@code direct_mutex}. */
    private void prepareDirectFunctionsForIpmodify(FtraceOps ops) {
        if (!ops.has(FtraceOps.IPMODIFY)) {
            return;
        }
        for (long ip : ops.filterIps()) {
            FtraceOps op = directOpsAt(ip);
            if (op == null) {
                continue;
            }
            if (op.opsFunc == null) {
                throw new KernelException(Errno.EBUSY, fn(ip) + " has direct " + op + " without ops_func; IPMODIFY "
                        + ops + " cannot share it");
            }
            int ret = op.opsFunc.apply(op, ip, OpsCmd.ENABLE_SHARE_IPMODIFY_PEER);
            if (ret != 0) {
                throw new KernelException(Errno.of(ret), "ops_func of " + op + " answered " + Errno.of(ret)
                        + " to ENABLE_SHARE_IPMODIFY_PEER for " + fn(ip) + " (IPMODIFY " + ops + ")");
            }
        }
    }

    /** {@code cleanup_direct_functions_after_ipmodify}. */
    private void cleanupDirectFunctionsAfterIpmodify(FtraceOps ops) {
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
                        if (ftraceLocation(ip) == 0) {
                            throw new KernelException(Errno.EINVAL, "no patch site at " + describeIp(ip));
                        }
                        if (remove) {
                            if (!hash.remove(ip)) {
                                throw new KernelException(Errno.ENOENT, fn(ip) + " is not in the filter of " + ops);
                            }
                        } else if (!hash.contains(ip)) {
                            hash.add(ip);
                        }
                    }
                    ftraceLock.lock();
                    try {
                        hashMoveAndUpdateOps(ops, hash);
                    } finally {
                        ftraceLock.unlock();
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
        FtraceHash newHash = empty(src) ? null : allocAndCopy(Math.min(fls(count(src) / 2), FtraceHash.FTRACE_HASH_MAX_BITS), src, 0);
        Change ch = new Change();
        try {
            if (ops.has(FtraceOps.ENABLED) && (ops.has(FtraceOps.IPMODIFY) || ops.has(FtraceOps.DIRECT))) {
                hashUpdateIpmodify(ops, empty(oldHash) ? null : oldHash, newHash == null ? null : newHash, false, ch);
            }
            boolean update = hashRecUpdate(ops, false, ch);
            FtraceOps.OpsHash h = ops.funcHash;
            h.filter = newHash;
            ch.onUndo(() -> h.filter = oldHash);
            update |= hashRecUpdate(ops, true, ch);
            if (ops.has(FtraceOps.ENABLED) && update) {
                ops.set(FtraceOps.MODIFYING);
                try {
                    runUpdateCode(FTRACE_UPDATE_CALLS, ch);
                } finally {
                    ops.clear(FtraceOps.MODIFYING);
                }
            }
        } catch (RuntimeException e) {
            ch.rollback();
            freeHash(newHash);
            throw e;
        }
        if (ops.has(FtraceOps.ENABLED)) {
            costs.incrementAndGet(Cost.OPS_UPDATED.ordinal());
        }
        freeHashRcu(oldHash);
    }

    /** {@code ops_equal}: the same ip sets. */
    private static boolean opsEqual(FtraceHash a, FtraceHash b) {
        if (empty(a) && empty(b)) {
            return true;
        }
        if (count(a) != count(b)) {
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
    private void ftraceUpdateOps(FtraceOps ops, FtraceHash filter) {
        ftraceLock.lock();
        try {
            if (!opsEqual(filter, ops.funcHash.filter)) {
                hashMoveAndUpdateOps(ops, filter);
            }
        } finally {
            ftraceLock.unlock();
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
            directMutex.lock();
            try {
                opsInit(ops);
                prepareDirectFunctionsForIpmodify(ops);
                registerFtraceFunctionNolock(ops);
            } finally {
                directMutex.unlock();
            }
        }
    }

    private void registerFtraceFunctionNolock(FtraceOps ops) {
        opsInit(ops);
        ftraceLock.lock();
        try {
            ftraceStartup(ops);
        } finally {
            ftraceLock.unlock();
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

    private void unregisterFtraceFunction(FtraceOps ops, boolean injectFaults) {
        opsInit(ops);
        ftraceLock.lock();
        try {
            ftraceShutdown(ops, injectFaults);
        } finally {
            ftraceLock.unlock();
        }
        cleanupDirectFunctionsAfterIpmodify(ops);
    }

    // ---------------------------------------------------------------------------------------
    // Classic direct API

    /** {@code check_direct_multi} and the ENABLED check every direct update after the first makes. */
    private void requireRegisteredDirect(FtraceOps ops) {
        opsInit(ops);
        if (!ops.has(FtraceOps.INITIALIZED) || (ops.flags & FtraceOps.MULTI_FLAGS) != FtraceOps.MULTI_FLAGS) {
            throw new KernelException(Errno.EINVAL, ops + " is not a direct ops (set up by register_ftrace_direct"
                    + " or update_ftrace_direct_add)");
        }
        if (!ops.has(FtraceOps.ENABLED)) {
            throw new KernelException(Errno.EINVAL, ops + " is not registered");
        }
    }

    /** The checks {@code update_ftrace_direct_del} and {@code _mod} make before taking a lock. */
    private void requireBatchOnLiveDirect(FtraceOps ops, FtraceHash hash, String api) {
        opsInit(ops);
        if (empty(hash)) {
            throw new KernelException(Errno.EINVAL, api + ": empty hash for " + ops);
        }
        requireRegisteredDirect(ops);
        if (directFunctions == emptyHash) {
            throw new KernelException(Errno.EINVAL, "no function has a direct trampoline");
        }
    }

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
            opsInit(ops);
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
            if (empty(hash)) {
                throw new KernelException(Errno.EINVAL, ops + " has an empty filter; set it with ftrace_set_filter_ip first");
            }
            FtraceHash freeHash = null;
            directMutex.lock();
            try {
                for (long ip : hash.ips()) {
                    CallTarget existing = findRecDirect(ip);
                    if (existing != null) {
                        throw new KernelException(Errno.EBUSY, fn(ip) + " already has direct trampoline " + existing);
                    }
                }
                FtraceHash old = directFunctions;
                int bits = Math.min(fls(hash.count() + old.count()), FtraceHash.FTRACE_HASH_MAX_BITS);
                FtraceHash newHash = allocAndCopy(bits, old, hash.count());
                for (long ip : hash.ips()) {
                    newHash.add(ip, addr);
                    hash.setDirect(ip, addr);
                }
                costs.addAndGet(Cost.HASH_ENTRIES_COPIED.ordinal(), hash.count());
                directFunctions = newHash;
                int flags = ops.flags;
                ops.func = callDirectFuncs;
                ops.set(FtraceOps.MULTI_FLAGS);
                ops.trampoline = ftraceRegsCaller;
                ops.directCall = addr;
                try {
                    registerFtraceFunctionNolock(ops);
                    freeHash = old;
                } catch (RuntimeException e) {
                    // reset_direct: the ips leave direct_functions again. The model republishes the
                    // old table (still live) rather than deleting from the published one in place.
                    directFunctions = old;
                    freeHash = newHash;
                    for (long ip : hash.ips()) {
                        hash.setDirect(ip, null);
                    }
                    ops.func = null;
                    ops.trampoline = null;
                    ops.directCall = null;
                    ops.flags = flags;
                    throw e;
                }
            } finally {
                directMutex.unlock();
                freeDirectFunctionsLater(freeHash);
            }
        }
    }

    /**
     * {@code unregister_ftrace_direct}: unregisters {@code ops} (with the grace periods of a dynamic
     * ops) and removes its functions from {@code direct_functions}; {@code freeFilters} also frees
     * its filter.
     */
    public void unregisterFtraceDirect(FtraceOps ops, CallTarget addr, boolean freeFilters) {
        try (Kernel.Operation op = kernel.beginOperation("unregister_ftrace_direct")) {
            requireRegisteredDirect(ops);
            directMutex.lock();
            try {
                // The kernel resets the direct entries even when unregistering failed; its only
                // failures leave the ops unregistered anyway. The model's failures (an injected fault)
                // leave the ops registered, so its entries stay.
                unregisterFtraceFunction(ops);
                resetDirect(ops, addr);
            } finally {
                directMutex.unlock();
            }
            if (freeFilters) {
                freeFilter(ops);
            }
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
        FtraceHash old = directFunctions;
        if (!empty(filter)) {
            FtraceHash trimmed = null;
            for (long ip : filter.ips()) {
                if (old.contains(ip) && old.findDirect(ip) == addr) {
                    if (trimmed == null) {
                        trimmed = allocator.allocNoFail(new FtraceHash(old.sizeBits(), old.count()));
                        trimmed.copyFrom(old);
                    }
                    trimmed.remove(ip);
                }
            }
            if (trimmed != null) {
                directFunctions = trimmed;
                if (freeDirectHashAtOnce) {
                    allocator.free(old);
                } else if (old != emptyHash) {
                    kernel.tasksRcu().call(() -> allocator.free(old));
                }
            }
        }
        ops.func = null;
        ops.trampoline = null;
    }

    /**
     * {@code modify_ftrace_direct}: switches every function of {@code ops} to {@code addr}. A
     * static stub ops sharing the ops' filter is registered first, so each site has two ops and
     * goes through the list function, which reads {@code direct_functions}; the entries are then
     * changed in place and the stub unregistered, which patches the sites straight to {@code addr}.
     */
    public void modifyFtraceDirect(FtraceOps ops, CallTarget addr) {
        try (Kernel.Operation op = kernel.beginOperation("modify_ftrace_direct")) {
            requireRegisteredDirect(ops);
            directMutex.lock();
            try {
                modifyFtraceDirectLocked(ops, addr);
            } finally {
                directMutex.unlock();
            }
        }
    }

    /** {@code modify_ftrace_direct_nolock}: for a caller that holds {@link #directMutex()} (an ops_func). */
    public void modifyFtraceDirectNolock(FtraceOps ops, CallTarget addr) {
        try (Kernel.Operation op = kernel.beginOperation("modify_ftrace_direct_nolock")) {
            requireRegisteredDirect(ops);
            requireDirectMutex();
            modifyFtraceDirectLocked(ops, addr);
        }
    }

    private void modifyFtraceDirectLocked(FtraceOps ops, CallTarget addr) {
        FtraceOps tmp = modifyTmpOps;
        opsInit(tmp);
        tmp.funcHash = ops.funcHash;
        tmp.directCall = addr;
        if (modWithoutStubOps) {
            setDirectsInPlace(ops.funcHash.filter, ip -> addr);
            ops.directCall = addr;
            tmp.funcHash = tmp.localHash;
            return;
        }
        registerFtraceFunctionNolock(tmp);
        try {
            FtraceHash filter = ops.funcHash.filter;
            hashUpdateIpmodify(ops, filter, filter, true, new Change());
            setDirectsInPlace(filter, ip -> addr);
            ops.directCall = addr;
        } finally {
            unregisterFtraceFunction(tmp, false);
            tmp.funcHash = tmp.localHash;
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
            opsInit(ops);
            if (empty(hash)) {
                throw new KernelException(Errno.EINVAL, "update_ftrace_direct_add: empty hash for " + ops);
            }
            FtraceHash oldDirect = null;
            FtraceHash newFilter = null;
            directMutex.lock();
            try {
                for (long ip : hash.ips()) {
                    if (directFunctions.contains(ip)) {
                        throw new KernelException(Errno.EINVAL, fn(ip) + " already has direct trampoline " + findRecDirect(ip));
                    }
                    if (ftraceLocation(ip) == 0) {
                        throw new KernelException(Errno.EINVAL, "no patch site at " + describeIp(ip));
                    }
                    if (hash.findDirect(ip) == null) {
                        throw new KernelException(Errno.EINVAL, fn(ip) + " has no direct address in the hash");
                    }
                }
                FtraceHash oldFilter = ops.funcHash.filter;
                boolean reg = count(oldFilter) == 0;
                if (reg && (ops.func != null || ops.trampoline != null || ops.has(FtraceOps.ENABLED))) {
                    throw new KernelException(Errno.EINVAL, ops + " has no functions but is set up or registered already");
                }
                newFilter = hashAdd(oldFilter, hash);
                FtraceHash newDirect = hashAdd(directFunctions, hash);
                oldDirect = directFunctions;
                directFunctions = newDirect;
                try {
                    if (reg) {
                        int flags = ops.flags;
                        ops.func = callDirectFuncs;
                        ops.set(FtraceOps.MULTI_FLAGS);
                        ops.trampoline = ftraceRegsCaller;
                        ops.localHash.filter = newFilter;
                        try {
                            registerFtraceFunctionNolock(ops);
                        } catch (RuntimeException e) {
                            ops.localHash.filter = oldFilter;
                            ops.func = null;
                            ops.trampoline = null;
                            ops.flags = flags;
                            throw e;
                        }
                        newFilter = oldFilter;
                    } else {
                        ftraceUpdateOps(ops, newFilter);
                    }
                } catch (RuntimeException e) {
                    directFunctions = oldDirect;
                    oldDirect = newDirect;
                    throw e;
                }
            } finally {
                directMutex.unlock();
                freeDirectFunctionsLater(oldDirect);
                freeHash(newFilter);
            }
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
            requireBatchOnLiveDirect(ops, hash, "update_ftrace_direct_del");
            FtraceHash oldDirect = null;
            FtraceHash newFilter = null;
            directMutex.lock();
            try {
                FtraceHash oldFilter = ops.funcHash.filter;
                if (count(oldFilter) == 0) {
                    throw new KernelException(Errno.EINVAL, ops + " has no functions");
                }
                for (long ip : hash.ips()) {
                    CallTarget cur = findRecDirect(ip);
                    CallTarget want = hash.findDirect(ip);
                    if (cur == null || cur != want) {
                        throw new KernelException(Errno.EINVAL, fn(ip) + (cur == null ? " has no direct trampoline"
                                : " is attached to " + cur + ", not " + want));
                    }
                }
                newFilter = hashSub(oldFilter, hash, ops);
                FtraceHash newDirect = hashSub(directFunctions, hash, ops);
                try {
                    if (empty(newFilter)) {
                        unregisterFtraceFunction(ops);
                        ops.func = null;
                        ops.trampoline = null;
                        freeFilter(ops);
                    } else {
                        ftraceUpdateOps(ops, newFilter);
                    }
                } catch (RuntimeException e) {
                    freeHash(newDirect);
                    throw e;
                }
                oldDirect = directFunctions;
                directFunctions = newDirect;
            } finally {
                directMutex.unlock();
                freeDirectFunctionsLater(oldDirect);
                freeHash(newFilter);
            }
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
            requireBatchOnLiveDirect(ops, hash, "update_ftrace_direct_mod");
            if (doDirectLock) {
                directMutex.lock();
            } else {
                requireDirectMutex();
            }
            try {
                FtraceHash orig = ops.funcHash.filter;
                if (orig == null) {
                    throw new KernelException(Errno.EINVAL, ops + " has no functions");
                }
                for (long ip : hash.ips()) {
                    if (hash.findDirect(ip) == null) {
                        throw new KernelException(Errno.EINVAL, fn(ip) + " has no direct address in the hash");
                    }
                }
                if (modWithoutStubOps) {
                    setDirectsInPlace(hash, hash::findDirect);
                    return;
                }
                FtraceOps tmp = batchModTmpOps;
                opsInit(tmp);
                tmp.localHash.filter = hash;
                try {
                    registerFtraceFunctionNolock(tmp);
                    try {
                        hashUpdateIpmodify(ops, orig, orig, true, new Change());
                        setDirectsInPlace(hash, hash::findDirect);
                    } finally {
                        unregisterFtraceFunction(tmp, false);
                    }
                } finally {
                    tmp.localHash.filter = null;
                }
            } finally {
                if (doDirectLock) {
                    directMutex.unlock();
                }
            }
        }
    }

    /**
     * The in-place store of the modify paths, under {@code ftrace_lock}: {@code entry->direct = new}
     * for each ip of {@code ips} that has an entry. Alone, without the stub ops around it, it is
     * {@link UnsafeVariant#DIRECT_MOD_WITHOUT_STUB_OPS}.
     */
    private void setDirectsInPlace(FtraceHash ips, java.util.function.LongFunction<CallTarget> target) {
        ftraceLock.lock();
        try {
            FtraceHash direct = directFunctions;
            for (long ip : ips.ips()) {
                if (direct.contains(ip)) {
                    direct.setDirect(ip, target.apply(ip));
                }
            }
        } finally {
            ftraceLock.unlock();
        }
    }

    /** {@code direct_mutex}, for callers of the {@code _nolock} variants (an {@code ops_func}). */
    public ReentrantLock directMutex() {
        return directMutex;
    }

    private void requireDirectMutex() {
        if (!directMutex.isHeldByCurrentThread()) {
            throw new KernelException(Errno.EINVAL, "direct_mutex is not held (lockdep_assert_held)");
        }
    }

    // ---------------------------------------------------------------------------------------
    // Function padding (per-function storage)

    /**
     * {@code kfunc_md_arch_poke}: writes {@code insn} (a {@link PaddingInsn} word, such as
     * {@code mov $index, %eax}) at the head of the 16 bytes of padding before {@code f}, with one
     * {@code text_poke} and one {@code text_poke_sync} under {@code text_mutex}. Costs one
     * {@link Cost#TEXT_POKES} and one {@link Cost#CORE_SYNCS}.
     *
     * @throws KernelException EINVAL naming the function if it belongs to another kernel or has no
     *                         padding, or if {@code insn} is not an instruction for the padding;
     *                         nothing is written then
     */
    public void textPokePadding(KernelFunction f, long insn) {
        textPokePaddingBatch(List.of(f), new long[] {insn});
    }

    /**
     * {@link #textPokePadding} for many functions with a single sync: {@code insns[i]} goes into the
     * padding of {@code fs.get(i)}, every poke first and then one {@code text_poke_sync}. Costs
     * {@code fs.size()} {@link Cost#TEXT_POKES} and one {@link Cost#CORE_SYNCS} (none for an empty
     * list). Every function and word is checked before anything is written.
     *
     * @throws KernelException EINVAL if the lengths differ, or as {@link #textPokePadding} for any
     *                         element; nothing is written then
     */
    public void textPokePaddingBatch(List<KernelFunction> fs, long[] insns) {
        if (fs.size() != insns.length) {
            throw new KernelException(Errno.EINVAL, fs.size() + " functions but " + insns.length + " instructions");
        }
        EntrySite[] padded = new EntrySite[fs.size()];
        for (int i = 0; i < padded.length; i++) {
            KernelFunction f = fs.get(i);
            if (f.kernel() != kernel) {
                throw new KernelException(Errno.EINVAL, f.name() + " is a function of another kernel");
            }
            padded[i] = f.site();
            padded[i].checkPadding(insns[i]);
        }
        if (padded.length == 0) {
            return;
        }
        ReentrantLock textMutex = poker.textMutex();
        textMutex.lock();
        try {
            poker.pokePadding(padded, insns);
        } finally {
            textMutex.unlock();
        }
    }

    // ---------------------------------------------------------------------------------------
    // Inspection

    /** A snapshot of the cost counters. */
    public FtraceCosts costs() {
        return FtraceCosts.of(costs);
    }

    /** The registered ops, head of {@code ftrace_ops_list} first. */
    public List<FtraceOps> opsList() {
        return List.of(opsList);
    }

    /** The number of entries in {@code direct_functions}. */
    public int directFunctionCount() {
        return directFunctions.count();
    }

    /**
     * Whether {@code direct_functions} is a hash of its own rather than the shared empty hash:
     * after the first update it always is, a hash with no entries once the last one is deleted (as
     * {@code update_ftrace_direct_del} leaves the kernel's), so a leak check counts it as ftrace's
     * own state.
     */
    public boolean directFunctionsAllocated() {
        return directFunctions != emptyHash;
    }

    /** {@code ftrace_caller}: what a site traced only by callbacks without regs calls. */
    public CallTarget ftraceCaller() {
        return ftraceCaller;
    }

    /** {@code ftrace_regs_caller}: what a site traced by several ops, one wanting regs, calls. */
    public CallTarget ftraceRegsCaller() {
        return ftraceRegsCaller;
    }

    @Override
    public String toString() {
        return "ftrace[" + records.length + " records, " + opsList.length + " ops, " + directFunctions.count() + " direct]";
    }
}
