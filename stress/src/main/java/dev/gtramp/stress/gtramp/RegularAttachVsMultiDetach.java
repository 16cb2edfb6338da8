package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.EntrySite;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.trampoline.BpfTracingLink;
import dev.gtramp.trampoline.BpfTracingMultiLink;
import dev.gtramp.trampoline.KfuncMdFreeProtocol;
import dev.gtramp.stress.Residue;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>A regular link attaching to a function while the multi link that serves it through
 * {@code bpf_global_caller} detaches: the regular program runs in every call after its attach
 * returned, the multi program in none after its close returned.</b>
 *
 * <pre>
 *   cpu 0                              attacher                     detacher (attacher's thread)
 *   until both are over, calls:        wait for cpu 0               wait for cpu 0
 *     m = r = 0                        attach fentry R to f:         close M (on f):
 *     f()                               under global_tr_lock and      under global_tr_lock:
 *       global caller: M (m++)          tr-&gt;mutex: f's md has M?     f served by the global
 *       or f's trampoline: M, R (r++)     yes: take f over (M a shim,  caller: leaves direct_ops;
 *       or f's trampoline: R              R), update_ftrace_direct_mod  by the trampoline: the
 *       or nothing (f a NOP)             no: f's own trampoline        shim goes, _mod to R alone
 *     check each at most once, M never              (update_ftrace_direct_add)
 *     after its close returned, R always
 *     after its attach returned
 *   one more call: must run R alone
 * </pre>
 *
 * {@code f} has a fentry.multi program M, served by the global caller through f's {@code kfunc_md};
 * another multi link keeps {@code g} on the global ops throughout, so {@code direct_ops} stays
 * registered. One writer attaches a regular fentry program R to {@code f} while a second writer,
 * a thread the first starts, closes M's link. In half the trials, chosen at random, the attach
 * starts only once the close is under way, so that it meets the detach in progress about as often
 * as it goes first.
 *
 * <p>The hazard: the attach chooses how to reach f from the state of its md: taken over from the
 * global caller (one {@code update_ftrace_direct_mod}) if the md has programs and no trampoline,
 * else registered as f's own ({@code update_ftrace_direct_add}). The detach changes exactly that
 * state: it removes f from {@code direct_ops} and empties the md, or (after a takeover) drops M's
 * shim from the trampoline. The choice is right only under the locks both take,
 * {@code global_tr_lock} and {@code tr->mutex} ({@code kernel/bpf/trampoline.c}'s lock of the
 * trampoline's lists and image). An attach that looks at the md before taking them
 * ({@link UnsafeVariant#GTRAMP_REGULAR_MD_CHECK_UNLOCKED}) takes f over after the detach has
 * removed it from {@code direct_ops}: the {@code update_ftrace_direct_mod} moves no entry, the attach
 * succeeds, and f's site calls nothing.
 *
 * <p>Outcomes {@code (r1, r2, r3)}: {@code r1}: 0 every call was right, the one after the writers
 * included; 1 a call that began after
 * M's close returned ran M; 2 a call that began after R's attach returned did not run R; 3 a call
 * ran no M while M's link was attached throughout; 4 a program ran twice, or R before its attach
 * began; 5 a call read freed memory or failed, or KASAN reported a use after free; 6 the attach or
 * the close failed, or they did not end in time. {@code r2}: 1 if some call ran M and R together
 * (the attach took f over from the global caller before the detach). {@code r3}: 1 if the call after
 * both ran R alone through f's trampoline with no md of f left, and closing R and the other multi
 * link then left every site a NOP, no md and no trampoline.
 * <ul>
 *   <li>{@code 0, 1, 1}: the attach took f over first, and the detach then dropped M's shim
 *       (the interleaving: the mix of a trampoline and a {@code kfunc_md});</li>
 *   <li>{@code 0, 0, 1}: the detach went first, and the attach gave f its own trampoline;</li>
 *   <li>{@code 2, *, *}: FORBIDDEN, R's attach returned and R did not run;</li>
 *   <li>{@code 0, *, 9}: FORBIDDEN, an otherwise acceptable trial left residue once its links were
 *       closed and every callback had run (live objects, callbacks, retiring mds or images, patched
 *       sites, direct entries or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN.</li>
 * </ul>
 * Paired with {@link GtrampRegularMdCheckUnlockedBroken}, which must show {@code 2, *, *}.
 */
@Description("a regular attach racing the detach of the multi link serving f: R after its attach, M never after its close")
@Outcome(id = "0, 1, 1", expect = ACCEPTABLE, desc = "the attach took f over from the global caller; the detach dropped M's shim")
@Outcome(id = "0, 0, 1", expect = ACCEPTABLE, desc = "the detach went first; the attach gave f its own trampoline")
@Outcome(id = "0, .*, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "M ran after its close returned")
@Outcome(id = "2, .*, .*", expect = FORBIDDEN, desc = "R did not run after its attach returned")
@Outcome(id = "3, .*", expect = FORBIDDEN, desc = "M did not run while attached")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a program run twice, freed memory, a failed writer, or state left")
public abstract class RegularAttachVsMultiDetach extends GlobalTrial {
    private static final long BODY = 7;
    private static final int BEFORE = 0;
    private static final int UNDER_WAY = 1;
    private static final int DONE = 2;

    /** The runs of M and R in the current call; written and read by CPU 0 only. */
    private int m;
    private int r;
    /** M's link: {@link #BEFORE} attached, {@link #UNDER_WAY} closing, {@link #DONE} closed; the detacher's. */
    private volatile int mState;
    /** R's link: {@link #BEFORE}, {@link #UNDER_WAY} attaching, {@link #DONE} attached; the attacher's. */
    private volatile int rState;
    /** Set by a writer whose attach or close failed. */
    private volatile boolean writerFailed;
    /** Whether a call ran M and R together; CPU 0's only. */
    private boolean both;
    private final KernelFunction g;
    private final BpfTracingMultiLink multi;
    private final BpfTracingMultiLink kept;
    /** R's link once attached; the attacher's, then the arbiter's. */
    private BpfTracingLink regular;
    private final BpfProg fentry = prog("regular_r", BpfAttachType.TRACE_FENTRY, ctx -> {
        r++;
        return 0;
    });

    RegularAttachVsMultiDetach(Set<UnsafeVariant> unsafe) {
        super(unsafe, RcuFlavor.QSBR, KfuncMdFreeProtocol.RCU_THEN_KILL);
        g = kernel.functions().get(1);
        f.setBody(frame -> BODY);
        multi = attachMulti(prog("multi_m", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> {
            m++;
            return 0;
        }));
        kept = attachMulti(prog("multi_g", BpfAttachType.TRACE_FENTRY_MULTI, ctx -> 0), List.of(g));
        settle();
        setupDone();
    }

    /** CPU 0: calls {@code f} until the attach and the close are over, then once more. */
    final void call(III_Result res) {
        try (Cpu cpu = kernel.bindCpu(0)) {
            int verdict = callWhileUpdating(() -> once(cpu), 6);
            if (verdict == 0 && writerFailed) {
                verdict = 6;
            }
            // The call after both is judged too: it must run R and not M.
            int lastVerdict = once(cpu);
            res.r1 = verdict != 0 ? verdict : lastVerdict;
            res.r2 = both ? 1 : 0;
            boolean last = lastVerdict == 0 && m == 0 && r == 1;
            res.r3 = last && f.site().opcode() == EntrySite.CALL && trampolines.kfuncMdCount() == 1
                    && trampolines.trampolineCount() == 1 ? 1 : 0;
        }
    }

    private int once(Cpu cpu) {
        m = 0;
        r = 0;
        int m0 = mState;
        int r0 = rState;
        long v = callOnce(cpu);
        int m1 = mState;
        int r1 = rState;
        if (v != BODY) {
            return 5;
        }
        if (m > 1 || r > 1 || (r == 1 && r1 == BEFORE)) {
            return 4;
        }
        if (m == 1 && m0 == DONE) {
            return 1;
        }
        if (r == 0 && r0 == DONE) {
            return 2;
        }
        if (m == 0 && m1 == BEFORE) {
            return 3;
        }
        if (m == 1 && r == 1) {
            both = true;
        }
        return 0;
    }

    /** The writers: this actor attaches R while a second thread it starts closes M ({@link #alongside}). */
    final void write() {
        alongside(this::attachRegular, this::detachMulti);
    }

    private void attachRegular() {
        updateWhileCalling(() -> {
            if (ThreadLocalRandom.current().nextBoolean()) {
                // Half the trials: the attach starts with the close under way, to meet it mid-detach.
                await(() -> mState != BEFORE);
            }
            rState = UNDER_WAY;
            try {
                regular = track(trampolines.attach(fentry, f, 0));
                rState = DONE;
            } catch (RuntimeException e) {
                writerFailed = true;
            }
        }, 2);
    }

    private void detachMulti() {
        updateWhileCalling(() -> {
            mState = UNDER_WAY;
            try {
                multi.close();
                mState = DONE;
            } catch (RuntimeException e) {
                writerFailed = true;
            }
        }, 2);
    }

    /** The arbiter: closes R and the other multi link, checks nothing is left, and runs {@link #finish}. */
    final void check(III_Result res) {
        boolean clean;
        try {
            if (regular != null) {
                regular.close();
            }
            kept.close();
            clean = f.site().opcode() == EntrySite.NOP && g.site().opcode() == EntrySite.NOP
                    && trampolines.kfuncMdCount() == 0 && trampolines.trampolineCount() == 0;
        } catch (RuntimeException e) {
            clean = false;
        }
        if (!clean) {
            res.r3 = 0;
        }
        if (finish() != 0) {
            res.r1 = 5;
        }
        if (residue(res, "0, 1, 1", "0, 0, 1")) {
            res.r3 = Residue.VALUE;
        }
    }
}
