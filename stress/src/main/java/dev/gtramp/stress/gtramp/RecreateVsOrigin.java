package dev.gtramp.stress.gtramp;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.mm.KasanException;
import dev.gtramp.kernel.rcu.RcuFlavor;
import dev.gtramp.trampoline.BpfTracingMultiLink;
import dev.gtramp.trampoline.TrampolinesConfig;
import dev.gtramp.stress.Residue;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.IIII_Result;

import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>{@code kfunc_md_create} while the function's old md waits for a call sleeping in the origin:
 * the call finishes on the old md, the new md serves the calls after it.</b>
 *
 * <pre>
 *   cpu 0                                      writer
 *   r = f()                                    wait until cpu 0 is inside f's body
 *     bpf_global_caller:                       close link a (fexit.multi, prog a), f's md A's last:
 *       rcu_read_lock, kfunc_md_get_rcu: A       kfunc_md_bpf_unlink, update_ftrace_direct_del,
 *       kfunc_md_enter (A's percpu_ref_get)      kfunc_md_put: A unpublished (table entry gone, or
 *       rcu_read_unlock                          NOPs over its mov $slot; the slot kept until A's free)
 *     origin call: f's body                    run the callbacks: A's ref killed, still held by cpu 0
 *       schedule(): sleeps until released      attach link b (fexit.multi, prog b) to f:
 *                                                kfunc_md_create: no md for f, a new md B
 *                                                (a new table entry, or a new slot and mov $slot)
 *                                                kfunc_md_bpf_link, update_ftrace_direct_add
 *                                              run the callbacks; release cpu 0
 *     back in the caller: walks A's fexit list
 *     kfunc_md_exit (A's percpu_ref_put): the
 *       last reference: A's release queues its free
 *                                              arbiter: run the callbacks (A freed);
 *                                                cpu 0 calls f again: B's prog b;
 *                                                close link b, run the callbacks
 * </pre>
 *
 * Both links are fexit.multi, so {@code bpf_global_caller} holds the md's {@code percpu_ref} across
 * the origin call. The first call found A and holds A's ref; while it sleeps in the origin (an RCU
 * and tasks-RCU quiescent state) A is unpublished and killed, and a new md B is created for the same
 * ip. A lives on, unpublished, until the call's {@code kfunc_md_exit}.
 *
 * <p>What is acceptable follows the kernel: the caller walks the md it looked up. Back from the
 * origin the first call walks A's fexit list, which link a's close emptied: prog a may run at most
 * once (here: never, it was unlinked before the call returned) and prog b, linked into B only, not
 * at all, although B was attached before the call returned. The hazards:
 * <ul>
 * <li>the call reads A after its free (A freed on the kill alone, or by anything but the call's
 *     last reference);</li>
 * <li>the writer's create finds the retiring A and revives it instead of creating B: prog b joins a
 *     killed md, runs in the first call, and goes with A when the call's put frees it;</li>
 * <li>A's free disturbs B, which shares its ip and, on the padding index, might share its slot: B
 *     must stay published and serve the next call, which runs prog b exactly once;</li>
 * <li>A never freed: the call's put must be the release.</li>
 * </ul>
 *
 * <p>Outcomes {@code (r1, r2, r3, r4)}: {@code r1} is the first call: 0 it returned the body's value,
 * 1 it read freed memory, 2 it failed otherwise or returned another value, 3 the writer never saw it
 * inside the origin (or its attach failed); {@code r2} its programs: 0 prog a at most once and prog b
 * never, 1 prog b ran (a program attached to another md), 2 prog a more than once; {@code r3} the
 * second call, after every callback ran: 0 it returned the body's value running prog b once and prog
 * a never, 1 prog b did not run (B lost), 2 anything else; {@code r4} the mds: 0 A was freed by then,
 * and B with link b's close, KASAN silent; 1 a KASAN report; 2 something of A never freed; 3 something
 * of B never freed.
 * <ul>
 *   <li>{@code 0, 0, 0, 0}: the call finished on A, A was freed after it, B served the next call;</li>
 *   <li>{@code 1, *, *, *}: FORBIDDEN, use after free;</li>
 *   <li>{@code 0, 1, *, *}: FORBIDDEN, the wrong program ran: the call that held A ran B's program;</li>
 *   <li>{@code 0, 0, 1, *}: FORBIDDEN, B lost: the next call ran none of B's programs;</li>
 *   <li>{@code 0, 0, 0, 2}: FORBIDDEN, A never freed;</li>
 *   <li>{@code 0, 0, 0, 9}: FORBIDDEN, an otherwise acceptable trial left residue once its links were
 *       closed and every callback had run (live objects, callbacks, retiring mds or images, patched
 *       sites, direct entries or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN.</li>
 * </ul>
 * Run on the hash table ({@link KfuncMdRecreateVsOriginTest}) and the padding index
 * ({@link KfuncMdRecreateVsOriginPaddingTest}); their twins
 * {@link KfuncMdRecreateReleaseByIpBroken}, which must show {@code 0, 0, 1, 0}, and
 * {@link KfuncMdRecreatePaddingFindsDeadBroken}, which must show {@code 0, 1, 1, 1}.
 */
@Description("a new md for the function while a call sleeps in the origin on the old one: the call finishes on the old md, the new one serves the next call")
@Outcome(id = "0, 0, 0, 0", expect = ACCEPTABLE, desc = "the call finished on the old md, freed after it; the new md served the next call")
@Outcome(id = "0, 0, 0, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "use after free: the call read a freed md")
@Outcome(id = "0, 1, .*", expect = FORBIDDEN, desc = "wrong program: the call holding the old md ran the new md's program")
@Outcome(id = "0, 0, 1, .*", expect = FORBIDDEN, desc = "new md lost: the next call ran none of its programs")
@Outcome(id = "0, 0, 0, 2", expect = FORBIDDEN, desc = "the old md was never freed")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a fault, a program run wrongly, a leak, a stray KASAN report, or no race")
public abstract class RecreateVsOrigin extends GlobalTrial {
    private static final long BODY = 7;

    private final BpfProg progA;
    private final BpfProg progB;
    private final BpfTracingMultiLink linkA;
    /** Link b, attached by the writer; read by the arbiter. */
    private volatile BpfTracingMultiLink linkB;
    /** Runs of prog a and prog b; written by CPU 0's calls, read after them. */
    private int runsA;
    private int runsB;
    /** Set by the writer if CPU 0 never entered the origin or link b's attach failed. */
    private volatile boolean missed;

    RecreateVsOrigin(Set<UnsafeVariant> unsafe, TrampolinesConfig config) {
        super(unsafe, RcuFlavor.QSBR, config);
        sleepingBody(BODY);
        progA = prog("recreate_a", BpfAttachType.TRACE_FEXIT_MULTI, ctx -> {
            runsA++;
            return 0;
        });
        progB = prog("recreate_b", BpfAttachType.TRACE_FEXIT_MULTI, ctx -> {
            runsB++;
            return 0;
        });
        linkA = attachMulti(progA);
        settle();
        setupDone();
    }

    /** CPU 0: the first call of {@code f}, which sleeps in the origin. */
    final void call(IIII_Result r) {
        try (Cpu cpu = kernel.bindCpu(0)) {
            long v = callOnce(cpu);
            r.r1 = v == BODY ? 0 : v == FREED ? 1 : 2;
            r.r2 = runsB != 0 ? 1 : runsA > 1 ? 2 : 0;
        }
    }

    /** The writer: while CPU 0 sleeps in the origin, closes link a, then attaches link b. */
    final void write() {
        boolean met = whileInBody(() -> {
            linkA.close();
            settle();
            try {
                linkB = track(attachMulti(progB));
            } catch (RuntimeException e) {
                missed = true;
            }
        });
        if (!met) {
            missed = true;
        }
    }

    final void check(IIII_Result r) {
        if (missed) {
            r.r1 = 3;
        }
        settle();
        int a = runsA;
        int b = runsB;
        long v;
        try (Cpu cpu = kernel.bindCpu(0)) {
            v = callOnce(cpu);
        }
        int ranA = runsA - a;
        int ranB = runsB - b;
        r.r3 = v == BODY && ranA == 0 && ranB == 1 ? 0 : v == BODY && ranA == 0 && ranB == 0 ? 1 : 2;
        boolean aLeft = trampolines.kfuncMdsRetiring() != 0;
        boolean kasan = false;
        boolean bLeft = false;
        BpfTracingMultiLink l = linkB;
        if (l != null) {
            try {
                l.close();
            } catch (KasanException e) {
                kasan = true;
            } catch (RuntimeException e) {
                bLeft = true;
            }
        }
        settle();
        bLeft |= trampolines.kfuncMdCount() != 0 || trampolines.kfuncMdsRetiring() != 0;
        kasan |= finish() != 0;
        r.r4 = kasan ? 1 : aLeft ? 2 : bLeft ? 3 : 0;
        if (residue(r, "0, 0, 0, 0")) {
            r.r4 = Residue.VALUE;
        }
    }
}
