package dev.gtramp.trampoline;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.image.KernelImage;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static dev.gtramp.trampoline.FentryFexitSelftestTest.assertNothingAttached;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One fentry.multi link on every function of the Linux 6.18 image that a tracing program may attach
 * to (52,351 addresses, aliases counted once), attached and detached while two CPUs call functions of the image: afterwards no
 * md, patched site, ftrace entry or allocator object is left, and no call touched freed memory.
 */
class GlobalTrampolineWholeImageTest extends SelftestKernel {

    @ParameterizedTest
    @MethodSource("dev.gtramp.trampoline.SelftestKernel#globalConfigs")
    void attachEveryTraceableFunctionWhileTwoCpusCall(TrampolinesConfig config) throws Exception {
        kernel = Kernel.boot(KernelImage.linux618(), KernelConfig.defaults().withCpus(3));
        Trampolines t = Trampolines.create(kernel, config);
        BpfProg prog = BpfProg.builder(kernel, "bench", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> 0).load();
        List<String> targets = new ArrayList<>();
        for (KernelFunction f : kernel.functions()) {
            if (f.isTraceable() && f == f.site().function() && AttachChecks.refusal(t, prog, f) == null) {
                targets.add(f.name());
            }
        }
        assertTrue(targets.size() > 45_000, "attachable functions: " + targets.size());
        // Every 47th target is called (those with a default body: the BPF test functions' real
        // bodies dereference their arguments).
        List<KernelFunction> called = new ArrayList<>();
        for (int i = 0; i < targets.size(); i += 47) {
            if (!targets.get(i).startsWith("bpf_")) {
                called.add(kernel.function(targets.get(i)));
            }
        }
        // One attach and detach first: from then on direct_functions is an allocated (empty) hash.
        t.attachMulti(prog, "bpf_fentry_test1", null).close();
        settle();
        long hashesBefore = kernel.allocator().snapshot().usage("ftrace_hash").liveObjects();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong calls = new AtomicLong();
        List<CompletableFuture<Void>> cpus = new ArrayList<>();
        for (int c = 0; c < 2; c++) {
            int id = c;
            cpus.add(CompletableFuture.runAsync(() -> {
                try (Cpu cpu = kernel.bindCpu(id)) {
                    for (int i = id; !stop.get(); i++) {
                        KernelFunction f = called.get(i % called.size());
                        cpu.callWith(f, new long[f.argWords()]);
                        calls.incrementAndGet();
                    }
                }
            }));
        }
        BpfTracingMultiLink link = t.attachMulti(prog, null, TracingMultiOpts.create().names(targets));
        assertEquals(targets.size(), t.kfuncMdCount());
        assertEquals(targets.size(), t.ftrace().directFunctionCount(), "the global caller's entries and the fallbacks'");
        long runsAttached = prog.stats().runs();
        try (Cpu cpu = kernel.bindCpu(2)) {
            for (KernelFunction f : called.subList(0, 100)) {
                cpu.callWith(f, new long[f.argWords()]);
            }
        }
        assertTrue(prog.stats().runs() >= runsAttached + 100, "each call after the attach runs the program");
        link.close();
        stop.set(true);
        CompletableFuture.allOf(cpus.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        assertTrue(calls.get() > 0);
        long runs = prog.stats().runs();
        assertTrue(runs > 100 && runs <= calls.get() + 100, "runs " + runs + ", calls " + calls.get());
        prog.close();
        assertNothingAttached(t);
        settle();
        assertEquals(hashesBefore, kernel.allocator().snapshot().usage("ftrace_hash").liveObjects(),
                "ftrace hashes beyond the ops' own");
    }

    /** Runs every queued callback, including ftrace's tasks-RCU frees of replaced direct_functions hashes. */
    private void settle() {
        for (int i = 0; i < 3; i++) {
            kernel.tasksRcu().barrier();
            kernel.rcu().barrier();
        }
    }
}
