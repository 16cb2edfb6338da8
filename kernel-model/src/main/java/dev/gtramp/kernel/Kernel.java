package dev.gtramp.kernel;

import dev.gtramp.kernel.fault.FaultInjector;
import dev.gtramp.kernel.image.ImageFunction;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.mm.Allocator;
import dev.gtramp.kernel.percpu.PerCpuArena;
import dev.gtramp.kernel.percpu.PercpuRefs;
import dev.gtramp.kernel.rcu.EpochRcu;
import dev.gtramp.kernel.rcu.QsbrRcu;
import dev.gtramp.kernel.rcu.Rcu;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.kernel.rcu.RcuStats;

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
import java.util.function.Function;

/**
 * One running kernel: the functions of a {@link KernelImage}, each with an entry site and a body,
 * a set of simulated {@link Cpu}s, an allocator with KASAN's checks, kernel memory, fault points,
 * the kernel's RCU and tasks RCU, per-CPU memory and percpu_refs, and a message log. Kernels share nothing; any number can run in one JVM, and two
 * kernels booted from the same image are independent. {@link #close()} runs the pending RCU
 * callbacks and stops the callback threads.
 *
 * <pre>{@code
 * Kernel kernel = Kernel.boot(KernelImage.linux618(), KernelConfig.defaults());
 * KernelFunction test1 = kernel.function("bpf_fentry_test1");
 * try (Cpu cpu = kernel.bindCpu(0)) {
 *     long ret = cpu.call(test1, 1);   // 2: the real body of bpf_fentry_test1
 * }
 * }</pre>
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
        this.rcu = config.rcuFlavor() == RcuFlavor.QSBR
                ? new QsbrRcu(RcuFlavor.QSBR, RcuFlavor.QSBR.kernelName(), log, config.rcuStallTimeout(), unsafe,
                        config.manualRcuCallbacks())
                : new EpochRcu(RcuFlavor.GENERAL, RcuFlavor.GENERAL.kernelName(), log, config.rcuStallTimeout(), unsafe,
                        config.manualRcuCallbacks());
        this.tasksRcu = new QsbrRcu(RcuFlavor.TASKS, RcuFlavor.TASKS.kernelName(), log, config.rcuStallTimeout(),
                unsafe, config.manualRcuCallbacks());
        this.perCpu = new PerCpuArena(config.cpus());
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

    /** Per-CPU memory ({@code alloc_percpu}). */
    public PerCpuArena perCpu() {
        return perCpu;
    }

    /** Creates percpu_refs ({@code percpu_ref_init}) whose mode switches wait for {@link #rcu()}. */
    public PercpuRefs percpuRefs() {
        return percpuRefs;
    }

    /**
     * Runs every pending RCU callback and stops the callback threads. A callback of one domain may
     * queue one on the other (a tasks-RCU free that drops the last reference to a program queues
     * its RCU free), so both are drained in turn, a bounded number of rounds, until neither has a
     * callback pending; only then are they closed.
     */
    @Override
    public void close() {
        for (int i = 0; i < CLOSE_DRAIN_ROUNDS && (pending(rcu) || pending(tasksRcu)); i++) {
            tasksRcu.barrier();
            rcu.barrier();
        }
        rcu.close();
        tasksRcu.close();
    }

    /** Rounds of {@link #close()}'s drain: more than any chain of callbacks the model queues. */
    private static final int CLOSE_DRAIN_ROUNDS = 8;

    private static boolean pending(Rcu domain) {
        RcuStats s = domain.stats();
        return s.callbacksQueued() > s.callbacksInvoked();
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
     * @throws KernelException EBUSY if another thread has bound the CPU, EINVAL for a bad id
     */
    public Cpu bindCpu(int id) {
        Cpu cpu = cpu(id);
        cpu.bind(Thread.currentThread());
        return cpu;
    }

    @Override
    public String toString() {
        return "Kernel[" + image.name() + ", " + cpus.length + " cpus]";
    }
}
