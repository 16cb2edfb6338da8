package dev.gtramp.stress;

import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.ftrace.FtraceDirectAddTest;
import dev.gtramp.stress.gtramp.GtrampMixVsCallTest;
import dev.gtramp.stress.percpu.PercpuRefReleaseOnceTest;
import dev.gtramp.stress.trampoline.TrampImagePutTest;
import dev.gtramp.trampoline.MultiLinkMode;
import dev.gtramp.trampoline.TracingMultiOpts;
import dev.gtramp.trampoline.TrampolinesConfig;
import org.junit.jupiter.api.Test;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;

import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Residue} and the arbiters that use it: a clean trial of a real body reports its usual
 * outcome, and the same trial with something left behind (a link left attached, an md left, an
 * object or a per-CPU variable leaked, a warning logged) reports {@link Residue#VALUE}; a trial that
 * went wrong otherwise keeps its outcome; expected lines and stall warnings are not residue.
 */
class ResidueTest {

    /** A trial of the global trampoline, driven by hand: the setup attaches one multi link, which stays. */
    private static final class Trial extends KernelTrial {
        Trial() {
            super(Set.of(), RcuFlavor.QSBR, TrampolinesConfig.global(MultiLinkMode.GLOBAL_HASH));
            track(trampolines.attachMulti(prog("kept", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> 0), null,
                    TracingMultiOpts.create().names(List.of(f.name()))));
            settle();
            setupDone();
        }
    }

    @Test
    void aTrialThatClosesWhatItOpenedLeavesNothing() {
        Trial t = new Trial();
        // The writer's work: links and programs opened after the setup, left for the arbiter to close.
        t.track(t.trampolines.attach(t.prog("fentry", BpfAttachType.TRACE_FENTRY, ctx -> 0), t.f));
        t.toggleAttach(t.prog("toggled", BpfAttachType.TRACE_FENTRY, ctx -> 0), 1, 3);
        assertEquals(0, t.finish());
        assertEquals(List.of(), t.left());
        assertFalse(t.residue("0, 1", "0, 1"));
    }

    @Test
    void aLinkLeftAttachedIsResidue() {
        Trial t = new Trial();
        BpfProg untracked = BpfProg.builder(t.kernel, "untracked", BpfAttachType.TRACE_FENTRY).body(ctx -> 0).load();
        t.trampolines.attach(untracked, t.f);
        t.finish();
        String left = String.join("\n", t.left());
        assertTrue(left.contains("1 trampolines, 0 after setup"), left);
        assertTrue(left.contains("leaked: bpf_trampoline +1 objects"), left);
        assertTrue(t.residue("0, 1", "0, 1"));
    }

    @Test
    void anMdLeftIsResidue() {
        Trial t = new Trial();
        String g = t.kernel.functions().get(1).name();
        BpfProg untracked = BpfProg.builder(t.kernel, "untracked", BpfAttachType.TRACE_FENTRY_MULTI).body(ctx -> 0).load();
        t.trampolines.attachMulti(untracked, null, TracingMultiOpts.create().names(List.of(g)));
        t.finish();
        String left = String.join("\n", t.left());
        assertTrue(left.contains("2 kfunc_mds, 1 after setup"), left);
        assertTrue(left.contains("2 direct entries, 1 after setup"), left);
        assertTrue(left.contains("leaked: kfunc_md +1 objects"), left);
    }

    @Test
    void leakedObjectsAndPerCpuVariablesAreResidue() {
        Trial t = new Trial();
        t.kernel.memory().alloc("struct leaked", 24);
        t.kernel.perCpu().allocLong("leaked counter");
        t.finish();
        String left = String.join("\n", t.left());
        assertTrue(left.contains("leaked: percpu +1 objects"), left);
        assertTrue(left.contains("leaked: struct leaked +1 objects"), left);
    }

    @Test
    void aWarningIsResidueUnlessExpectedOrAStall() {
        Trial t = new Trial();
        t.kernel.log().warn("bpf", "WARNING: something the test did not expect");
        t.kernel.log().error("ftrace", "ftrace_bug: an injected fault");
        t.kernel.log().warn("rcu", "INFO: rcu_sched detected stall on cpu 0: grace period 1 has waited 0 ms");
        t.expectLog(e -> e.message().startsWith("ftrace_bug:"));
        t.finish();
        assertEquals(1, t.left().size(), t.left().toString());
        assertTrue(t.left().get(0).contains("something the test did not expect"), t.left().toString());
    }

    @Test
    void aTrialThatWentWrongKeepsItsOutcome() {
        Trial t = new Trial();
        t.kernel.log().warn("bpf", "WARNING: left behind");
        t.finish();
        assertFalse(t.left().isEmpty());
        assertTrue(t.residue("5, 1", "0, 1", "5, 1"));
        assertFalse(t.residue("1, 1", "0, 1", "5, 1"), "a forbidden outcome must not turn into residue");
        assertTrue(Residue.accepted("0, 0, 1", "0, 0, 1"));
        assertFalse(Residue.accepted("0, 0, 1", "0, 0"));
    }

    @Test
    void aCallbackNeverRunIsResidue() {
        TrialDomain domain = TrialDomain.of(RcuFlavor.QSBR, Set.of());
        Residue r = Residue.of(domain, null);
        assertEquals(List.of(), r.find());
        domain.call(() -> { });
        assertEquals(List.of("QSBR: 1 callbacks not run"), r.find());
        domain.runPendingCallbacks();
        assertEquals(List.of(), r.find());
    }

    // ------------------------------------------------------------------ real bodies

    @Test
    void cleanTrialsOfRealBodiesReportNoResidue() throws Exception {
        for (int i = 0; i < 3; i++) {
            assertNotResidue(run(new GtrampMixVsCallTest(), new II_Result(), s -> { }), "0, 1", "5, 1");
            assertNotResidue(run(new TrampImagePutTest(), new II_Result(), s -> { }), "0, 0");
            assertNotResidue(run(new FtraceDirectAddTest(), new II_Result(), s -> { }), "0, 1", "1, 1", "2, 1");
            assertNotResidue(run(new PercpuRefReleaseOnceTest(), new III_Result(), s -> { }), "0, 0, 1");
        }
    }

    @Test
    void realBodiesReportWhatTheirKernelLeftBehind() throws Exception {
        // A link left attached behind the arbiter's back.
        II_Result mix = run(new GtrampMixVsCallTest(), new II_Result(), s -> {
            Kernel k = s.kernel;
            s.trampolines.attach(BpfProg.builder(k, "stray", BpfAttachType.TRACE_FENTRY).body(ctx -> 0).load(), s.f);
        });
        assertTrue(mix.toString().endsWith(", 9"), mix.toString());
        // An object leaked.
        II_Result put = run(new TrampImagePutTest(), new II_Result(), s -> s.kernel.memory().alloc("struct leaked", 8));
        assertEquals("0, 9", put.toString());
        // A warning in the kernel log of an ftrace trial.
        II_Result add = run(new FtraceDirectAddTest(), new II_Result(),
                s -> ((Kernel) field(s, "kernel")).log().warn("ftrace", "WARNING: left behind"));
        assertTrue(add.toString().endsWith(", 9"), add.toString());
        // A warning in a percpu_ref trial's domain.
        III_Result once = run(new PercpuRefReleaseOnceTest(), new III_Result(),
                s -> ((TrialDomain) field(s, "domain")).log().warn("percpu_ref", "WARNING: left behind"));
        assertEquals("0, 0, 9", once.toString());
    }

    private static void assertNotResidue(Object result, String... acceptable) {
        assertNotEquals(String.valueOf(Residue.VALUE), result.toString().substring(result.toString().lastIndexOf(' ') + 1),
                result.toString());
        assertTrue(Residue.accepted(result, acceptable), result + " is not one of " + List.of(acceptable));
    }

    /**
     * One trial of a jcstress body: its actors on threads of their own, then {@code beforeArbiter}
     * on the test's thread, then the arbiter. Returns the result.
     */
    private static <S, R> R run(S state, R result, Consumer<S> beforeArbiter) throws Exception {
        List<Thread> threads = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Method arbiter = null;
        for (Method m : state.getClass().getMethods()) {
            if (m.isAnnotationPresent(Arbiter.class)) {
                arbiter = m;
            }
            if (m.isAnnotationPresent(Actor.class)) {
                threads.add(new Thread(() -> {
                    try {
                        invoke(m, state, result);
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                }));
            }
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("an actor failed", failure.get());
        }
        beforeArbiter.accept(state);
        invoke(arbiter, state, result);
        return result;
    }

    private static void invoke(Method m, Object state, Object result) throws Exception {
        try {
            if (m.getParameterCount() == 0) {
                m.invoke(state);
            } else {
                m.invoke(state, result);
            }
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof Exception ex ? ex : new RuntimeException(e.getCause());
        }
    }

    private static Object field(Object o, String name) {
        for (Class<?> c = o.getClass(); c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f.get(o);
            } catch (NoSuchFieldException e) {
                // a superclass's
            } catch (IllegalAccessException e) {
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("no field " + name + " in " + o.getClass());
    }
}
