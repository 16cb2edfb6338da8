package dev.gtramp.trampoline;

import dev.gtramp.kernel.bpf.BpfProg;

/**
 * {@code struct bpf_tramp_node}: one program on one trampoline, with the cookie it was attached with
 * for that function. A single link has one node; a tracing multi link has one per function.
 */
final class TrampNode {
    final BpfProg prog;
    final long cookie;
    /** The link the node belongs to, for messages. */
    final Object link;
    /**
     * {@code bpf_shim_tramp_link}: the node carries a program of the function's {@code kfunc_md}
     * (a tracing multi link of the global trampoline), not a link of this trampoline's own.
     */
    final boolean shim;

    TrampNode(BpfProg prog, long cookie, Object link) {
        this(prog, cookie, link, false);
    }

    TrampNode(BpfProg prog, long cookie, Object link, boolean shim) {
        this.prog = prog;
        this.cookie = cookie;
        this.link = link;
        this.shim = shim;
    }

    @Override
    public String toString() {
        return prog.name() + (cookie != 0 ? " (cookie " + cookie + ")" : "");
    }
}
