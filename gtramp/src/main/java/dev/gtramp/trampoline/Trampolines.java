package dev.gtramp.trampoline;

import dev.gtramp.ftrace.Ftrace;
import dev.gtramp.ftrace.FtraceOps;
import dev.gtramp.ftrace.OpsCmd;
import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfProg;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The per-function trampolines of one kernel ({@code kernel/bpf/trampoline.c}): the tables that
 * find a trampoline by key and by ip, {@code trampoline_mutex}, the pool of 32 trampoline locks, the
 * ftrace strategy, and the attach entry points that give {@link BpfTracingLink}s and
 * {@link BpfTracingMultiLink}s.
 *
 * <p>One instance per kernel ({@link #of(Kernel)}, {@link #create(Kernel, FtraceStrategy)}). The
 * images' lifecycle ({@code bpf_tramp_image_put} and its frees) is {@link TrampImages}.
 */
public final class Trampolines {
    /** {@code TRAMPOLINE_LOCKS_BITS}: 32 locks shared by all trampolines. */
    static final int TRAMPOLINE_LOCKS = 32;
    /** {@code btf_obj_id(btf_vmlinux) << 32 | 0x80000000}: the key prefix of a vmlinux function. */
    private static final long VMLINUX_KEY = (1L << 32) | 0x80000000L;

    private final Kernel kernel;
    private final Ftrace ftrace;
    private final TrampolinesConfig config;
    private final FtraceStrategy strategy;
    /** The global trampoline of {@link MultiLinkMode#GLOBAL_HASH} and {@code GLOBAL_PADDING}; else null. */
    private final GlobalTrampoline global;
    private final TrampImages images;
    /** {@code trampoline_mutex}: guards both tables and every {@code refcnt}. */
    private final ReentrantLock trampolineMutex = new ReentrantLock();
    /** {@code trampoline_key_table}. Guarded by {@link #trampolineMutex}. */
    private final Map<Long, BpfTrampoline> byKey = new HashMap<>();
    /**
     * {@code trampoline_ip_table}: written under {@link #trampolineMutex}, read without it by the
     * shared direct ops' {@code ops_func}, which runs under {@code direct_mutex} and must not take
     * {@code trampoline_mutex}.
     */
    private final Map<Long, BpfTrampoline> byIp = new ConcurrentHashMap<>();
    private final ReentrantLock[] locks = new ReentrantLock[TRAMPOLINE_LOCKS];
    /** {@code direct_ops} of the single-ops strategy; null with {@link FtraceStrategy#CLASSIC}. */
    private final FtraceOps directOps;
    private final TrampolineOps normalOps;
    private final ModifyReturnTargets modifyReturnTargets = new ModifyReturnTargets();
    private final GlobResolutions globResolutions;

    private Trampolines(Kernel kernel, TrampolinesConfig config) {
        this.kernel = kernel;
        this.ftrace = Ftrace.of(kernel);
        this.config = config;
        this.strategy = config.ftraceStrategy();
        this.globResolutions = new GlobResolutions(kernel);
        this.images = new TrampImages(kernel);
        for (int i = 0; i < locks.length; i++) {
            locks[i] = new ReentrantLock();
        }
        if (strategy == FtraceStrategy.SINGLE_OPS) {
            this.directOps = FtraceOps.staticDirect("bpf direct_ops", this::opsFunc);
            this.normalOps = new SingleOpsFentry(this, ftrace, directOps);
        } else {
            this.directOps = null;
            this.normalOps = new ClassicFentry(ftrace);
        }
        this.global = config.multiLinkMode().isGlobal()
                ? new GlobalTrampoline(this, new KfuncMds(kernel, config.freeProtocol(), newMdIndex(config)))
                : null;
    }

    private KfuncMdIndex newMdIndex(TrampolinesConfig c) {
        if (c.multiLinkMode() == MultiLinkMode.GLOBAL_PADDING) {
            return new PaddingMdIndex(kernel);
        }
        return c.mdTable() == KfuncMdTableKind.NON_BLOCKING_HASH_MAP
                ? new NonBlockingMdIndex()
                : new RcuTableMdIndex(kernel);
    }

    /**
     * The kernel's trampolines, created with {@link FtraceStrategy#SINGLE_OPS} on first use unless
     * {@link #create} chose otherwise first.
     */
    public static Trampolines of(Kernel kernel) {
        return kernel.subsystem(Trampolines.class, k -> new Trampolines(k, TrampolinesConfig.defaults()));
    }

    /**
     * Chooses the kernel's ftrace strategy, with per-function multi links; must come before any other
     * use of its trampolines.
     *
     * @throws KernelException EBUSY if the kernel's trampolines already exist with another configuration
     */
    public static Trampolines create(Kernel kernel, FtraceStrategy strategy) {
        return create(kernel, TrampolinesConfig.defaults().withFtraceStrategy(strategy));
    }

    /**
     * Chooses how the kernel's trampolines are built; must come before any other use of them.
     *
     * @throws KernelException EBUSY if the kernel's trampolines already exist with another configuration
     */
    public static Trampolines create(Kernel kernel, TrampolinesConfig config) {
        Trampolines t = kernel.subsystem(Trampolines.class, k -> new Trampolines(k, config));
        if (!t.config.equals(config)) {
            throw new KernelException(Errno.EBUSY, "the trampolines of " + kernel + " already use " + t.config);
        }
        return t;
    }

    public Kernel kernel() {
        return kernel;
    }

    public Ftrace ftrace() {
        return ftrace;
    }

    public FtraceStrategy strategy() {
        return strategy;
    }

    public TrampolinesConfig config() {
        return config;
    }

    /** The functions {@code fmod_ret} programs may attach to, beyond the built-in rules. */
    public ModifyReturnTargets modifyReturnTargets() {
        return modifyReturnTargets;
    }

    // ------------------------------------------------------------------ attach

    /** Attaches a fentry, fexit or fmod_ret program to {@code function} with cookie 0. */
    public BpfTracingLink attach(BpfProg prog, KernelFunction function) {
        return attach(prog, function, 0);
    }

    /** Attaches to the function named {@code function}. */
    public BpfTracingLink attach(BpfProg prog, String function) {
        return attach(prog, lookup(function), 0);
    }

    /**
     * {@code bpf_tracing_prog_attach}: links {@code prog} to the trampoline of {@code function},
     * creating it if needed, and publishes the new image.
     *
     * @throws KernelException naming the function and program: EINVAL for a function the trampoline
     *         cannot serve or a prototype the program's record does not fit, E2BIG when the function
     *         has 38 programs, EBUSY when the program is already attached there, ESHUTDOWN when the
     *         kernel is closed
     */
    public BpfTracingLink attach(BpfProg prog, KernelFunction function, long cookie) {
        try (Kernel.Operation op = kernel.beginOperation("bpf_tracing_prog_attach of " + prog + " to " + function.name())) {
            return attachRegular(prog, function, cookie);
        }
    }

    private BpfTracingLink attachRegular(BpfProg prog, KernelFunction function, long cookie) {
        if (prog.attachType().isMulti()) {
            throw new KernelException(Errno.EINVAL, prog + " is a multi program; attach it with attachMulti");
        }
        AttachChecks.check(this, prog, function);
        prog.get();
        BpfTrampoline tr = null;
        try {
            tr = get(function);
            BpfTracingLink link = new BpfTracingLink(this, prog, tr, cookie);
            if (global != null) {
                global.linkRegular(tr, link.node);
            } else {
                tr.linkProg(link.node, normalOps);
            }
            return link;
        } catch (RuntimeException e) {
            if (tr != null) {
                put(tr);
            }
            prog.put();
            throw e;
        }
    }

    /**
     * {@code bpf_program__attach_tracing_multi(prog, pattern, opts)}: one link for many functions,
     * on their per-function trampolines, published in one batch. See {@link TracingMultiOpts}.
     */
    public BpfTracingMultiLink attachMulti(BpfProg prog, String pattern, TracingMultiOpts opts) {
        try (Kernel.Operation op = kernel.beginOperation("bpf_tracing_multi_link_attach of " + prog)) {
            return MultiAttach.attach(this, prog, pattern, opts);
        }
    }

    /**
     * Why {@code prog} may not attach to {@code f} ({@code bpf_check_attach_target}), or empty if it
     * may: the check every attach makes, for a tool that selects its targets first.
     */
    public Optional<String> attachRefusal(BpfProg prog, KernelFunction f) {
        return Optional.ofNullable(AttachChecks.refusal(this, prog, f));
    }

    GlobResolutions globResolutions() {
        return globResolutions;
    }

    /** How often a multi link's pattern was resolved from the cache rather than by scanning the image. */
    public GlobCacheStats globCacheStats() {
        return globResolutions.stats();
    }

    KernelFunction lookup(String name) {
        return kernel.find(name).orElseThrow(() -> new KernelException(Errno.ENOENT,
                "unknown function " + name + ": not in the image's BTF and kallsyms"));
    }

    // ------------------------------------------------------------------ the tables

    /** {@code bpf_trampoline_compute_key} for a vmlinux function: its BTF id is the image index. */
    static long key(KernelFunction f) {
        return VMLINUX_KEY | f.imageFunction().index();
    }

    /** {@code bpf_trampoline_get}: the function's trampoline with one more reference, created if needed. */
    BpfTrampoline get(KernelFunction f) {
        long key = key(f);
        trampolineMutex.lock();
        try {
            BpfTrampoline tr = byKey.get(key);
            if (tr == null) {
                ReentrantLock lock = locks[Long.hashCode(key * 0x9E3779B97F4A7C15L) >>> (32 - 5)];
                FtraceOps fops = strategy == FtraceStrategy.CLASSIC
                        ? FtraceOps.direct("bpf_trampoline " + f.name(), this::opsFunc)
                        : null;
                tr = kernel.allocator().alloc(new BpfTrampoline(this, key, f, lock, fops));
                byKey.put(key, tr);
                byIp.put(tr.ip, tr);
            }
            tr.refcnt++;
            return tr;
        } finally {
            trampolineMutex.unlock();
        }
    }

    /** {@code bpf_trampoline_put}: drops a reference; the last one unhashes and frees the trampoline. */
    void put(BpfTrampoline tr) {
        trampolineMutex.lock();
        try {
            if (--tr.refcnt > 0) {
                return;
            }
            if (tr.progCount() != 0) {
                throw new KernelException(Errno.EBUSY, "bpf_trampoline_put of " + tr.function.name()
                        + " with programs still linked");
            }
            if (tr.fops != null) {
                ftrace.freeFilter(tr.fops);
            }
            byKey.remove(tr.key);
            byIp.remove(tr.ip);
            kernel.allocator().free(tr, "bpf_trampoline_put");
        } finally {
            trampolineMutex.unlock();
        }
    }

    /** {@code bpf_trampoline_unlink_prog} of a regular link. */
    void unlinkRegular(BpfTrampoline tr, TrampNode node) {
        if (global != null) {
            global.unlinkRegular(tr, node);
        } else {
            tr.unlinkProg(node, normalOps);
        }
    }

    /**
     * {@code ops_func} of every BPF direct ops: the trampoline at {@code ip} answers; an entry of
     * {@code bpf_global_caller} shares its function with an IPMODIFY user as it is
     * ({@code bpf_gtramp_ftrace_ops_func}: the caller takes the origin address from the stack).
     */
    private int opsFunc(FtraceOps ops, long ip, OpsCmd cmd) {
        BpfTrampoline tr = byIp.get(ip);
        if (tr == null) {
            return global != null ? 0 : -Errno.ENOENT.code();
        }
        return tr.opsFunc(cmd);
    }

    /** The trampoline of {@code f}, if one exists. */
    public Optional<TrampolineInfo> trampoline(KernelFunction f) {
        BpfTrampoline tr;
        trampolineMutex.lock();
        try {
            tr = byKey.get(key(f));
            if (tr == null) {
                return Optional.empty();
            }
            // Held so the trampoline outlives the query; its lock is taken outside trampoline_mutex.
            tr.refcnt++;
        } finally {
            trampolineMutex.unlock();
        }
        try {
            return Optional.of(TrampolineInfo.of(tr));
        } finally {
            put(tr);
        }
    }

    /**
     * The trampoline of {@code f} if one exists with programs linked. The caller holds the
     * trampoline's lock.
     */
    BpfTrampoline existingWithProgs(KernelFunction f) {
        trampolineMutex.lock();
        try {
            BpfTrampoline tr = byKey.get(key(f));
            return tr != null && tr.progCount() > 0 ? tr : null;
        } finally {
            trampolineMutex.unlock();
        }
    }

    // ------------------------------------------------------------------ the global trampoline

    GlobalTrampoline global() {
        return global;
    }

    /** {@code bpf_global_caller}, the direct call target of every function the global ops serve. */
    CallTarget globalCaller() {
        return global.caller();
    }

    /** The {@code kfunc_md} of {@code f}, if the kernel has the global trampoline and {@code f} an md. */
    public Optional<KfuncMdInfo> kfuncMd(KernelFunction f) {
        if (global == null) {
            return Optional.empty();
        }
        KfuncMds mds = global.mds();
        mds.mutex().lock();
        try {
            KfuncMd md = mds.index().lookup(f);
            return md == null ? Optional.empty() : Optional.of(KfuncMdInfo.of(md));
        } finally {
            mds.mutex().unlock();
        }
    }

    /** The number of published {@code kfunc_md}s (0 without the global trampoline). */
    public int kfuncMdCount() {
        return global == null ? 0 : global.mds().size();
    }

    /** {@code kfunc_md}s unpublished but not yet freed (waiting for grace periods or origin calls). */
    public long kfuncMdsRetiring() {
        return global == null ? 0 : global.mds().retiring();
    }

    /** The number of trampolines in the tables. */
    public int trampolineCount() {
        trampolineMutex.lock();
        try {
            return byKey.size();
        } finally {
            trampolineMutex.unlock();
        }
    }

    ReentrantLock[] locks() {
        return locks;
    }

    BpfTrampoline byIp(long ip) {
        return byIp.get(ip);
    }

    /** The ops that publish through ftrace at once: the kernel's strategy, for everything but multi links. */
    TrampolineOps normalOps() {
        return normalOps;
    }

    FtraceOps sharedDirectOps() {
        return directOps;
    }

    // ------------------------------------------------------------------ images

    /** The lifecycle of this kernel's trampoline images: build, put, release, free. */
    TrampImages images() {
        return images;
    }

    /** Images put but not yet freed (waiting for grace periods or in-flight origin calls). */
    public long imagesRetiring() {
        return images.retiring();
    }

    /**
     * Waits until every retired image has been freed: runs RCU and tasks-RCU barriers until none is
     * pending. Returns false if an image is still held after {@code rounds} rounds (a call inside an
     * origin function holds it).
     */
    public boolean drainRetiredImages(int rounds) {
        for (int i = 0; i < rounds && images.retiring() + kfuncMdsRetiring() > 0; i++) {
            kernel.tasksRcu().barrier();
            kernel.rcu().barrier();
            kernel.tasksRcu().barrier();
        }
        return images.retiring() + kfuncMdsRetiring() == 0;
    }

    @Override
    public String toString() {
        return "trampolines(" + strategy + ", " + config.multiLinkMode() + ", " + trampolineCount() + ")";
    }
}
