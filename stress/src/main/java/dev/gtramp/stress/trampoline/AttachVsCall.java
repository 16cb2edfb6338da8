package dev.gtramp.stress.trampoline;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.stress.Residue;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.Set;

import static dev.gtramp.stress.TrialDomain.await;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>Attach racing a call: each call runs the old program set or the new one, never a mix.</b>
 *
 * <pre>
 *   cpu 0                                   writer
 *   until the updates are over, calls:      wait for cpu 0's calls
 *     seen = 0                              7 times, alternately:
 *     f()                                     attach fentry P2 (cookie 2) to f
 *       fentry programs of the image:         close that link
 *         P1: seen += cookie == 1 ? 1 : 100     (each: bpf_trampoline_update builds an image
 *         P2: seen += cookie == 2 ? 10 : 100     and swaps f's site to it)
 *     check seen is 1 or 11                 (ends with P2 attached)
 *   one more call: must see 11
 * </pre>
 *
 * {@code f} starts with fentry P1 (cookie 1). The sets alternate between {P1} and {P2, P1}
 * ({@code hlist_add_head}: the newest runs first). Each program adds to the call's tally what it
 * saw: its own cookie, or a wrong one. A call that runs one set whole tallies 1 or 11.
 *
 * <p>The hazard: changing the program lists of an image a CPU may be running. The kernel never
 * does: every change builds a new immutable image and moves the call site to it, so a call runs
 * the image it entered from start to end. An update that overwrote the running image's slots in
 * place could show a call a program without its cookie, or half of a list.
 *
 * <p>Outcomes {@code (r1, r2)}: {@code r1}: 0 every call ran a whole set, 1 a call ran a mix,
 * 2 a call failed, 3 the updates did not finish in time; {@code r2}: 1 if the call after the last
 * update ran the new set.
 * <ul>
 *   <li>{@code 0, 1}: every call saw one set whole, and the new set after the update;</li>
 *   <li>{@code 1, *}: FORBIDDEN, a call ran a mix of two sets;</li>
 *   <li>{@code 0, 9}: FORBIDDEN, an otherwise acceptable trial left residue once its links were
 *       closed and every callback had run (live objects, callbacks, retiring mds or images, patched
 *       sites, direct entries or warnings: see {@link Residue})</li>
 *   <li>anything else: FORBIDDEN.</li>
 * </ul>
 * Paired with {@link TrampUpdateInPlaceBroken}, which must show {@code 1, 1}.
 */
@Description("attach racing a call: the call runs the old or the new program set, never a mix")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "each call ran one set whole; the new one after the update")
@Outcome(id = "0, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = "1, .*", expect = FORBIDDEN, desc = "a call ran a mix of two program sets")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "a fault, a stuck update, or the new set missing after it")
public abstract class AttachVsCall extends TrampolineTrial {
    private static final int UPDATES = 7;
    private static final long OLD_SET = 1;
    private static final long NEW_SET = 11;

    /** The call's tally; written and read by CPU 0 only. */
    private long seen;
    private final BpfProg p2 = prog("p2", BpfAttachType.TRACE_FENTRY,
            ctx -> seen += ctx.getAttachCookie() == 2 ? 10 : 100);

    AttachVsCall(Set<UnsafeVariant> unsafe) {
        super(unsafe);
        f.setBody(frame -> 0);
        track(trampolines.attach(prog("p1", BpfAttachType.TRACE_FENTRY,
                ctx -> seen += ctx.getAttachCookie() == 1 ? 1 : 100), f, 1));
        settle();
        setupDone();
    }

    /** CPU 0: calls {@code f} until the updates are over, then once more. */
    final void call(II_Result r) {
        try (Cpu cpu = kernel.bindCpu(0)) {
            r.r1 = callWhileUpdating(() -> once(cpu), 3);
            seen = 0;
            long v = callOnce(cpu);
            r.r2 = v == 0 && seen == NEW_SET ? 1 : 0;
        }
    }

    private int once(Cpu cpu) {
        seen = 0;
        long v = callOnce(cpu);
        if (v != 0) {
            return 2;
        }
        return seen == OLD_SET || seen == NEW_SET ? 0 : 1;
    }

    /** The writer: attaches and detaches P2 while CPU 0 calls, ending attached. */
    final void write() {
        updateWhileCalling(() -> toggleAttach(p2, 2, UPDATES));
    }

    final void check(II_Result r) {
        finish();
        if (residue(r, "0, 1")) {
            r.r2 = Residue.VALUE;
        }
    }
}
