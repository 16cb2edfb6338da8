package dev.gtramp.trampoline;

import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.stress.Residue;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.III_Result;

import java.util.Set;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * <b>{@code kfunc_md_create}: two links attaching the same function at once share one md with two
 * users.</b>
 *
 * <pre>
 *   attach 1                                attach 2
 *   md1 = kfunc_md_create(f)                md2 = kfunc_md_create(f)
 *     (under kfunc_md_mutex: look up f;       (the same)
 *     found: users++; else allocate,
 *     users = 1, insert)
 *   kfunc_md_bpf_link(md1, P1)              kfunc_md_bpf_link(md2, P2)
 *
 *   arbiter: the md published for f, its users and programs
 * </pre>
 *
 * {@code f} has no md yet. The two attaches are what two tracing multi links on {@code f} do first,
 * each with its own program; here nothing but {@code kfunc_md_mutex} orders them (the attach paths
 * also hold {@code global_tr_lock}, which hides a missing mutex from any test at the link level).
 *
 * <p>The hazard: the lookup, the count and the insert are one step only under the mutex. Without it
 * both attaches can miss and insert an md each (the second insert fails, or replaces the first), the
 * two increments can lose one, and two appends to the same list can lose a program.
 *
 * <p>Outcomes {@code (r1, r2, r3)}: {@code r1}: 0 both attaches got the published md, 1 they got two
 * mds or one that is not published, 2 an attach threw; {@code r2}: the published md's users (-1 if
 * none); {@code r3}: 1 if its programs are exactly P1 and P2, else 0.
 * <ul>
 *   <li>{@code 0, 2, 1}: one md, two users, both programs;</li>
 *   <li>{@code 0, 2, 9}: FORBIDDEN, an otherwise acceptable trial left residue once it had released
 *       its md and every callback had run (live objects, callbacks, retiring mds, warnings: see
 *       {@link Residue})</li>
 *   <li>anything else: FORBIDDEN (two mds, a lost user or program, an exception).</li>
 * </ul>
 * Paired with {@link KfuncMdCreateUnlockedBroken}, which must show a forbidden outcome.
 */
@Description("two attaches of one function at once: one md, two users, both programs")
@Outcome(id = "0, 2, 1", expect = ACCEPTABLE, desc = "one md with both users and both programs")
@Outcome(id = "0, 2, 9", expect = FORBIDDEN, desc = "residue: the kernel left objects, callbacks, sites or warnings behind")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "two mds, a lost user or program, or an exception")
public abstract class CreateVsCreate extends MdUsersTrial {
    private final BpfProg p1 = multi("p1");
    private final BpfProg p2 = multi("p2");
    private KfuncMd md1;
    private KfuncMd md2;

    CreateVsCreate(Set<UnsafeVariant> unsafe) {
        super(unsafe);
        setupDone();
    }

    final void attachP1() {
        md1 = createAndLink(p1);
    }

    final void attachP2() {
        md2 = createAndLink(p2);
    }

    final void check(III_Result r) {
        KfuncMd md = published();
        if (md1 == null || md2 == null) {
            r.r1 = 2;
        } else {
            r.r1 = md1 == md2 && md1 == md ? 0 : 1;
        }
        r.r2 = md == null ? -1 : users(md);
        r.r3 = md != null && hasExactly(md, p1, p2) ? 1 : 0;
        boolean clean = Residue.accepted(r, "0, 2, 1");
        if (clean) {
            // The detach paths' share, so that the md the trial made is no residue.
            release(md, p1);
            release(md, p2);
        }
        finish();
        if (residue(r, "0, 2, 1")) {
            r.r3 = Residue.VALUE;
        }
    }
}
