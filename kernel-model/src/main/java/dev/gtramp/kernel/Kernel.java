package dev.gtramp.kernel;

import dev.gtramp.kernel.fault.FaultInjector;
import dev.gtramp.kernel.image.ImageFunction;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.mm.Allocator;
import dev.gtramp.kernel.percpu.PerCpuArena;
import dev.gtramp.kernel.percpu.PercpuRefs;
import dev.gtramp.kernel.rcu.QsbrRcu;
import dev.gtramp.kernel.rcu.RcuDomainSpec;
import dev.gtramp.kernel.rcu.Rcu;
import dev.gtramp.kernel.rcu.RcuCallbacksInFlight;
import dev.gtramp.kernel.rcu.RcuFlavor;

import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

/**
 * One running kernel: the functions of a {@link KernelImage}, each with an entry site and a body,
 * a set of simulated {@link Cpu}s, an allocator with KASAN's checks, kernel memory, fault points,
 * the kernel's RCU and tasks RCU, per-CPU memory and percpu_refs, and a message log. Kernels share
 * nothing; any number can run in one JVM, and two kernels booted from the same image are independent.
 *
 * <p><b>Lifecycle.</b> {@link #close()} refuses new operations, waits for those under way, runs every
 * pending RCU callback of both domains (chains that cross them included) and stops the callback
 * threads. Every operation that changes the kernel's state (binding a CPU; loading a program,
 * creating a map, attaching and detaching, in the layers above) runs inside
 * {@link #beginOperation(String)}, which fails with ESHUTDOWN on a closed kernel before anything
 * has changed. Calls of kernel functions on CPUs bound before the close still run: the text is
 * still there.
 *
 * <pre>{@code
 * Kernel kernel = Kernel.boot(KernelImage.linux618(), KernelConfig.defaults());
 * KernelFunction test1 = kernel.function("bpf_fentry_test1");
 * try (Cpu cpu = kernel.bindCpu(0)) {
 *     long ret = cpu.call(test1, 1);   // 2: the real body of bpf_fentry_test1
 * }
 * }</pre>
 *
 * <p>Over 400 lines because it is the one door every layer comes through: boot, the function
 * lookups, CPUs, the lifecycle and the subsystem registry; each piece is short and delegates
 * (RCU, memory, per-CPU, faults live in classes of their own).
 */
public final class Kernel implements AutoCloseable {
    private final KernelImage image;
    private final KernelConfig config;
    /** Indexed like {@link KernelImage#functions()}; null where the image function has no address. */
    private final KernelFunction[] byIndex;
    private final List<KernelFunction> functions;
    private final Cpu[] cpus;
    private final KernelLog log = new KernelLog(false);
    private final FaultInjector faults = new FaultInjector();
    private final Allocator allocator;
    private final KernelMemory memory;
    private final Rcu rcu;
    private final Rcu tasksRcu;
    private final PerCpuArena perCpu;
    private final PercpuRefs percpuRefs;
    /** Counts {@link #syncCores()} calls; the scaling study reports it. */
    private final AtomicLong coreSyncs = new AtomicLong();
    /** Written once by {@link #installInt3Handler}; read on the int3 path. */
    private volatile Int3Handler int3Handler;
    /** Guarded by itself. */
    private final Map<Class<?>, Object> subsystems = new HashMap<>();
    /** Shared by {@link #rcu} and {@link #tasksRcu}: zero when no chain of callbacks has a step left. */
    private final RcuCallbacksInFlight rcuCallbacks = new RcuCallbacksInFlight();
    /**
     * Operations hold the read side (reentrant, so an operation may run others); {@link #close()}
     * takes the write side only to set {@link #closed}, so it waits for the operations under way and
     * no operation sees the kernel close halfway through.
     */
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    /** Written under the write side of {@link #lifecycle}; volatile for {@link #isClosed()}. */
    private volatile boolean closed;
    /** Serializes closers: each returns when the kernel is closed. */
    private final Object closeLock = new Object();
    /** The one operation token: releasing it needs no state but the lock's per-thread count. */
    private final Operation operation = new Operation();

    private Kernel(KernelImage image, KernelConfig config) {
        this.image = Objects.requireNonNull(image, "image");
        this.config = Objects.requireNonNull(config, "config");
        this.allocator = new Allocator(log, faults, config.allocator());
        this.memory = new KernelMemory(allocator);
        List<ImageFunction> imageFunctions = image.functions();
        this.byIndex = new KernelFunction[imageFunctions.size()];
        List<KernelFunction> all = new ArrayList<>(imageFunctions.size());
        int maxArgWords = 0;
        Map<Long, EntrySite> sites = new HashMap<>(imageFunctions.size() * 2);
        for (ImageFunction f : imageFunctions) {
            if (f.hasAddress()) {
                EntrySite site = sites.computeIfAbsent(f.ip(), ip -> new EntrySite(ip, DefaultBody.INSTANCE));
                KernelFunction kf = new KernelFunction(this, f, site);
                byIndex[f.index()] = kf;
                all.add(kf);
                maxArgWords = Math.max(maxArgWords, kf.argWords());
            }
        }
        this.functions = Collections.unmodifiableList(all);
        Set<UnsafeVariant> unsafe = config.unsafeVariants();
        RcuDomainSpec rcuSpec = RcuDomainSpec.of(config.rcuFlavor(), log, config.rcuStallTimeout()).withUnsafe(unsafe)
                .withManualCallbacks(config.manualRcuCallbacks()).withInFlight(rcuCallbacks);
        this.rcu = rcuSpec.create();
        this.tasksRcu = new QsbrRcu(new RcuDomainSpec(RcuFlavor.TASKS, RcuFlavor.TASKS.kernelName(), log,
                config.rcuStallTimeout(), unsafe, config.manualRcuCallbacks(), rcuCallbacks));
        this.perCpu = new PerCpuArena(config.cpus(), allocator);
        this.percpuRefs = new PercpuRefs(rcu, perCpu, log, unsafe);
        this.cpus = new Cpu[config.cpus()];
        for (int i = 0; i < cpus.length; i++) {
            Cpu cpu = new Cpu(this, i, maxArgWords);
            cpu.attachRcu(rcu.readerFor(cpu), tasksRcu.readerFor(cpu));
            cpus[i] = cpu;
        }
        BpfTestFunctions.install(this);
    }

    /** Boots a kernel from {@code image}. */
    public static Kernel boot(KernelImage image, KernelConfig config) {
        return new Kernel(image, config);
    }

    /** Boots a kernel from {@code image} with {@link KernelConfig#defaults()}. */
    public static Kernel boot(KernelImage image) {
        return new Kernel(image, KernelConfig.defaults());
    }

    public KernelImage image() {
        return image;
    }

    public KernelConfig config() {
        return config;
    }

    public KernelMemory memory() {
        return memory;
    }

    /** The kernel's message log ({@code dmesg}). */
    public KernelLog log() {
        return log;
    }

    /** The kernel's fault points ({@code CONFIG_FAULT_INJECTION}). */
    public FaultInjector faults() {
        return faults;
    }

    /** The allocator of the kernel's objects, with KASAN's checks. */
    public Allocator allocator() {
        return allocator;
    }

    /** The kernel's RCU ({@code call_rcu}, {@code synchronize_rcu}), of the configured flavor. */
    public Rcu rcu() {
        return rcu;
    }

    /** Tasks RCU ({@code call_rcu_tasks}), which protects trampoline code. */
    public Rcu tasksRcu() {
        return tasksRcu;
    }

    /** Per-CPU memory ({@code alloc_percpu}), accounted and checked by {@link #allocator()}. */
    public PerCpuArena perCpu() {
        return perCpu;
    }

    /** Creates percpu_refs ({@code percpu_ref_init}) whose mode switches wait for {@link #rcu()}. */
    public PercpuRefs percpuRefs() {
        return percpuRefs;
    }

    /**
     * Shuts the kernel down: refuses new operations (ESHUTDOWN), waits for those under way, runs
     * every RCU callback until no chain of callbacks has a step left in either domain (a tasks-RCU
     * callback that calls {@code call_rcu}, and back, as an fexit image's teardown does), then closes
     * both domains. Closing twice, or from several threads at once, closes once; every caller
     * returns when the kernel is closed.
     *
     * @throws KernelException EDEADLK when called inside an operation, which close would wait for
     */
    @Override
    public void close() {
        if (lifecycle.getReadHoldCount() > 0) {
            throw new KernelException(Errno.EDEADLK, "Kernel.close() inside an operation of the same kernel");
        }
        synchronized (closeLock) {
            if (!closed) {
                lifecycle.writeLock().lock();
                try {
                    closed = true;
                } finally {
                    lifecycle.writeLock().unlock();
                }
            }
            if (!config.unsafeVariants().contains(UnsafeVariant.KERNEL_CLOSE_DOMAINS_IN_TURN)) {
                drainRcuCallbacks();
            }
            rcu.close();
            tasksRcu.close();
        }
    }

    /**
     * Runs RCU callbacks until none is in flight in either domain. Both domains are still open, so
     * a callback may queue onto either; {@link RcuCallbacksInFlight} stays above zero until the
     * last step of every chain has run.
     */
    private void drainRcuCallbacks() {
        long park = 10_000;
        while (rcuCallbacks.count() > 0) {
            if (config.manualRcuCallbacks()) {
                rcu.runPendingCallbacks();
                tasksRcu.runPendingCallbacks();
            } else {
                LockSupport.parkNanos(park);
                park = Math.min(park * 2, 1_000_000);
            }
        }
    }

    /** Whether {@link #close()} has begun. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Begins an operation that changes the kernel's state, to be ended by closing the returned
     * token (try-with-resources). While it runs, {@link #close()} waits; on a closed kernel it fails
     * before the operation has changed anything. Operations nest. RCU callbacks must not begin
     * operations: a close in progress would wait for them while they wait for it.
     *
     * @param what the operation, named as the kernel names it (for the error message)
     * @throws KernelException ESHUTDOWN naming {@code what} if the kernel is closed
     */
    public Operation beginOperation(String what) {
        lifecycle.readLock().lock();
        if (closed) {
            lifecycle.readLock().unlock();
            throw new KernelException(Errno.ESHUTDOWN, what + ": " + this + " is closed");
        }
        return operation;
    }

    /** The token of {@link #beginOperation(String)}: closing it ends the operation. */
    public final class Operation implements AutoCloseable {
        private Operation() {
        }

        @Override
        public void close() {
            lifecycle.readLock().unlock();
        }
    }

    /**
     * {@code text_poke_sync()}: {@code on_each_cpu(do_sync_core)}, an IPI to every CPU that
     * returns when each has finished the instruction it was executing and will fetch fresh bytes
     * for the next one. In the model a CPU's instructions that matter are entry sites: this waits
     * for every CPU that is in the middle of fetching one. It never waits for a CPU that runs a
     * body, a trampoline or nothing, as an IPI does not wait for a task to finish.
     */
    public void syncCores() {
        // Pairs with the fence of a CPU's fetch (see Cpu.run): the patcher's last write is
        // globally visible before it reads any CPU's fetch state.
        VarHandle.fullFence();
        for (Cpu cpu : cpus) {
            cpu.waitForInstructionBoundary();
        }
        coreSyncs.incrementAndGet();
    }

    /** How many times {@link #syncCores()} has run. */
    public long coreSyncCount() {
        return coreSyncs.get();
    }

    /**
     * Installs the text patcher's trap handler.
     *
     * @throws KernelException EBUSY if one is installed already
     */
    public void installInt3Handler(Int3Handler handler) {
        Objects.requireNonNull(handler, "handler");
        synchronized (subsystems) {
            if (int3Handler != null) {
                throw new KernelException(Errno.EBUSY, "an int3 handler is installed already: " + int3Handler);
            }
            int3Handler = handler;
        }
    }

    /**
     * {@code do_int3}: a CPU trapped on an int3 at an entry site. Returns the instruction the CPU
     * executes instead: a call's target, or {@code null} for the NOP.
     */
    CallTarget int3(Frame frame) {
        Int3Handler h = int3Handler;
        if (h == null) {
            throw oops(frame, "int3 at an entry site with no text patcher");
        }
        return h.resolve(frame);
    }

    /** A CPU executed a mix of an old and a new instruction: the fault it would be in a kernel. */
    KernelException tornInstruction(Frame frame, String what) {
        return oops(frame, "torn instruction (" + what + ")");
    }

    /**
     * Logs an oops for a call on {@code frame} and returns the exception that ends the call.
     */
    public KernelException oops(Frame frame, String what) {
        String msg = String.format("general protection fault on cpu %d at %s+0x0 [%#x]: %s",
                frame.cpu().id(), frame.function().name(), frame.ip(), what);
        log.error("traps", msg);
        return new KernelException(Errno.EFAULT, msg);
    }

    /**
     * The kernel's instance of a subsystem, created by {@code factory} on first use: how the layers
     * above the kernel model (ftrace, BPF) keep one instance per kernel without static state. The
     * factory may itself ask for other subsystems.
     */
    public <T> T subsystem(Class<T> type, Function<Kernel, T> factory) {
        synchronized (subsystems) {
            Object existing = subsystems.get(type);
            if (existing != null) {
                return type.cast(existing);
            }
            T created = Objects.requireNonNull(factory.apply(this), "factory returned null");
            subsystems.put(type, created);
            return created;
        }
    }

    /** Every function that has an address, in image order. */
    public List<KernelFunction> functions() {
        return functions;
    }

    /** The function with this name, if the kernel has it and it has an address. */
    public Optional<KernelFunction> find(String name) {
        return image.function(name).map(f -> byIndex[f.index()]);
    }

    /**
     * The function with this name.
     *
     * @throws KernelException ENOENT naming the function if the image has no such function, or it
     *                         has no address (it was inlined everywhere)
     */
    public KernelFunction function(String name) {
        ImageFunction f = image.require(name);
        KernelFunction kf = byIndex[f.index()];
        if (kf == null) {
            throw new KernelException(Errno.ENOENT, name + " has no address in kallsyms (" + f.decision().reason() + ")");
        }
        return kf;
    }

    /**
     * The function whose entry is {@code ip}.
     *
     * @throws KernelException ENOENT naming the address if no function starts there
     */
    public KernelFunction functionAt(long ip) {
        return image.functionAt(ip).map(f -> byIndex[f.index()]).orElseThrow(
                () -> new KernelException(Errno.ENOENT, String.format("no function starts at %#x", ip)));
    }

    /** The kernel function for an image function of this kernel's image. */
    public KernelFunction function(ImageFunction f) {
        if (f.index() >= byIndex.length || image.functions().get(f.index()) != f) {
            throw new KernelException(Errno.EINVAL, f.name() + " is not a function of image " + image.name());
        }
        KernelFunction kf = byIndex[f.index()];
        if (kf == null) {
            throw new KernelException(Errno.ENOENT, f.name() + " has no address in kallsyms");
        }
        return kf;
    }

    /** The number of simulated CPUs. */
    public int cpuCount() {
        return cpus.length;
    }

    /** CPU {@code id}, bound or not. */
    public Cpu cpu(int id) {
        if (id < 0 || id >= cpus.length) {
            throw new KernelException(Errno.EINVAL, "cpu " + id + " outside [0, " + cpus.length + ")");
        }
        return cpus[id];
    }

    /**
     * Binds CPU {@code id} to the calling thread, which may then call kernel functions on it until it
     * closes the returned CPU.
     *
     * @throws KernelException EBUSY if another thread has bound the CPU, EINVAL for a bad id,
     *                         ESHUTDOWN if the kernel is closed
     */
    public Cpu bindCpu(int id) {
        try (Operation op = beginOperation("bind cpu " + id)) {
            Cpu cpu = cpu(id);
            cpu.bind(Thread.currentThread());
            return cpu;
        }
    }

    @Override
    public String toString() {
        return "Kernel[" + image.name() + ", " + cpus.length + " cpus]";
    }
}
