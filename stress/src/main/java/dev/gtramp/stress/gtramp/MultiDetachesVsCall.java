package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.EntrySite;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.stress.KernelTrial;
import dev.gtramp.trampoline.BpfTracingMultiLink;
import dev.gtramp.trampoline.TracingMultiOpts;
import dev.gtramp.trampoline.TrampolinesConfig;
import dev.gtramp.stress.Residue;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.List;
import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>Two tracing multi links sharing a function detach at once while it is called: each program
 * runs at most once per call and only while its link is attached, and nothing of the function is
 * left at the end.</b>
 *
 * <pre>
 *   cpu 0                              writer A               writer B (A's thread)
 *   until both closes are over:        wait for cpu 0         wait for cpu 0
 *     a = b = 0                        close A (on f, g)      close B (on f, h)
 *     f()                                (each either on the global caller's md of f, or
 *       the md of f, or f's trampoline:   on f's trampoline, which both links share)
 *         A (a++) if linked, B (b++) if linked
 *     check a, b &lt;= 1, no program after
 *     its close returned, none missed
 *     while its link was attached
 *   one more call: must run neither; f, g, h sites NOP, no md, no trampoline
 * </pre>
 *
 * Two fentry.multi links share {@code f}: A on {@code {f, g}}, B on {@code {f, h}}. On the global
 * trampoline both programs sit on f's one {@code kfunc_md}; on per-function multi links
 * ({@code bpf_trampoline_multi_attach}) both on f's one {@code bpf_trampoline}. Two writer threads,
 * bound to no CPU, close one link each at the same moment (the second is a thread the writer actor
 * starts: jcstress runs two actors on the CI's two CPUs).
 *
 * <p>The hazard: the shared md or trampoline has two users, and whichever detach goes second must
 * see that its program is the last, remove f's entry from {@code direct_ops} and free the md or the
 * trampoline; the first must leave them to the second. The decision is only right under the lock
 * that serializes the detaches ({@code global_tr_lock}, or the 32 {@code trampoline_locks} that
 * {@code bpf_trampoline_multi_detach} takes together). A detach that reads the md's program count
 * before {@code global_tr_lock} ({@link UnsafeVariant#GTRAMP_DETACH_LAST_CHECK_UNLOCKED}) lets both
 * see the other's program still there: neither deletes f, and its site keeps calling
 * {@code bpf_global_caller} with no md left. Deciding the other way (the shared md freed or the site
 * unpatched while the other link still needs it) shows as a missed program or a read of freed
 * memory.
 *
 * <p>Outcomes {@code (r1, r2, r3)}: {@code r1}: 0 every call was right, the one after the writers
 * included; 1 a call that began after
 * a program's close returned ran that program; 2 a call ran no program of a link attached
 * throughout the call; 3 a call ran a program twice; 4 a call read freed memory or failed, or KASAN
 * reported a use after free; 6 a close failed or the closes did not end in time. {@code r2}: 1 if
 * some call ran exactly one of the two programs, between the two detaches. {@code r3}: 1 if after
 * both closes a call ran neither program, the sites of f, g and h are NOPs, and no {@code kfunc_md}
 * and no trampoline is left.
 * <ul>
 *   <li>{@code 0, 1, 1}: calls between the two detaches ran the remaining program alone (the
 *       interleaving);</li>
 *   <li>{@code 0, 0, 1}: the same, though no call fell between the two detaches;</li>
 *   <li>{@code 0, *, 0}: FORBIDDEN, every call was right but f was left patched, or an md or a
 *       trampoline was left, after both links were closed;</li>
 *   <li>{@code 4, *}: FORBIDDEN, a call read freed memory;</li>
 *   <li>{@code 0, *, 9}: FORBIDDEN, an otherwise acceptable trial left residue once its links were
 *       closed and every callback had run (live objects, callbacks, retiring mds or images, patched
 *       sites, direct entries or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN.</li>
 * </ul>
 * Run on the global trampoline by {@link GtrampMultiDetachesVsCallTest}, paired with
 * {@link GtrampMultiDetachLastCheckUnlockedBroken}, which must show {@code 0, *, 0}; on per-function
 * multi links by {@link MultiDetachesVsCallTest}, paired with
 * {@link TrampMultiDetachRetireAsUnpublishedBroken}, which must show {@code 4, *}: the first detach
 * frees the image it replaced at once, under a call still running in it.
 */
@Description("two multi links sharing f detach at once: each program once per call while attached, nothing left")
@Outcome(id = "0, 1, 1", expect = ACCEPTABLE, desc = "calls between the detaches ran the remaining program alone")
@Outcome(id = "0, 0, 1", expect = ACCEPTABLE, desc = "every call right; none fell between the detaches")
@Outcome(id = "0, .*, 0", expect = FORBIDDEN, desc = "f left patched, or an md or a trampoline left, after both closes")
@Outcome(id = "0, .*, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "a program ran after its close returned")
@Outcome(id = "2, .*", expect = FORBIDDEN, desc = "a program of an attached link did not run")
@Outcome(id = "4, .*", expect = FORBIDDEN, desc = "use after free: a call read freed memory (or failed)")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a program run twice, freed memory, a failed close, or a stuck writer")
public abstract class MultiDetachesVsCall extends KernelTrial {
    private static final long BODY = 7;
    private static final int ATTACHED = 0;
    private static final int CLOSING = 1;
    private static final int CLOSED = 2;

    /** The runs of A and B in the current call; written and read by CPU 0 only. */
    private int a;
    private int b;
    /** Each link's state, {@link #ATTACHED}, {@link #CLOSING} or {@link #CLOSED}; written by its writer. */
    private volatile int aState;
    private volatile int bState;
    /** Set by a writer whose close failed. */
    private volatile boolean closeFailed;
    /** Whether a call ran exactly one of A and B; CPU 0's only. */
    private boolean alone;
    private final KernelFunction g;
    private final KernelFunction h;
    private final BpfTracingMultiLink linkA;
    private final BpfTracingMultiLink linkB;

    MultiDetachesVsCall(Set<UnsafeVariant> unsafe, TrampolinesConfig config) {
        super(unsafe, RcuFlavor.QSBR, config);
        g = kernel.functions().get(1);
        h = kernel.functions().get(2);
        f.setBody(frame -> BODY);
        linkA = trampolines.attachMulti(prog("detach_a", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> {
            a++;
            return 0;
        }), null, TracingMultiOpts.create().names(List.of(f.name(), g.name())));
        linkB = trampolines.attachMulti(prog("detach_b", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> {
            b++;
            return 0;
        }), null, TracingMultiOpts.create().names(List.of(f.name(), h.name())));
        settle();
        setupDone();
    }

    /** CPU 0: calls {@code f} until both closes are over, then once more. */
    final void call(III_Result res) {
        try (Cpu cpu = kernel.bindCpu(0)) {
            int verdict = callWhileUpdating(() -> once(cpu), 6);
            if (verdict == 0 && closeFailed) {
                verdict = 6;
            }
            // The call after both closes is judged too: it must run neither program.
            int lastVerdict = once(cpu);
            res.r1 = verdict != 0 ? verdict : lastVerdict;
            res.r2 = alone ? 1 : 0;
            boolean last = lastVerdict == 0 && a == 0 && b == 0;
            res.r3 = last && nop(f) && nop(g) && nop(h)
                    && trampolines.kfuncMdCount() == 0 && trampolines.trampolineCount() == 0 ? 1 : 0;
        }
    }

    private static boolean nop(KernelFunction fn) {
        return fn.site().opcode() == EntrySite.NOP;
    }

    private int once(Cpu cpu) {
        a = 0;
        b = 0;
        int a0 = aState;
        int b0 = bState;
        long v = callOnce(cpu);
        int a1 = aState;
        int b1 = bState;
        if (v != BODY) {
            return 4;
        }
        if (a > 1 || b > 1) {
            return 3;
        }
        if ((a == 1 && a0 == CLOSED) || (b == 1 && b0 == CLOSED)) {
            return 1;
        }
        if ((a == 0 && a1 == ATTACHED) || (b == 0 && b1 == ATTACHED)) {
            return 2;
        }
        if (a + b == 1) {
            alone = true;
        }
        return 0;
    }

    /**
     * The writers: this actor closes A while a second thread it starts closes B
     * ({@link #alongside}); both wait for CPU 0's calls, then close at once.
     */
    final void write() {
        alongside(this::writeA, this::writeB);
    }

    /** Writer A: closes link A while CPU 0 calls. */
    private void writeA() {
        updateWhileCalling(() -> {
            aState = CLOSING;
            try {
                linkA.close();
                aState = CLOSED;
            } catch (RuntimeException e) {
                closeFailed = true;
            }
        }, 2);
    }

    /** Writer B: closes link B while CPU 0 calls. */
    private void writeB() {
        updateWhileCalling(() -> {
            bState = CLOSING;
            try {
                linkB.close();
                bState = CLOSED;
            } catch (RuntimeException e) {
                closeFailed = true;
            }
        }, 2);
    }

    final void check(III_Result res) {
        if (finish() != 0) {
            res.r1 = 4;
        }
        if (residue(res, "0, 1, 1", "0, 0, 1")) {
            res.r3 = Residue.VALUE;
        }
    }
}
