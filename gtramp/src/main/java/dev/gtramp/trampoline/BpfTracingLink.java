package dev.gtramp.trampoline;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.bpf.BpfProg;

/**
 * {@code struct bpf_tracing_link}: one fentry, fexit or fmod_ret program on one function's
 * trampoline. Closing it ({@code bpf_tracing_link_release}) unlinks the program, publishes an image
 * without it and drops the link's references to the trampoline and the program. A close that fails
 * (building the image, or ftrace) leaves the link open and attached as it was, so it can be closed
 * again; closing a closed link does nothing, and concurrent closes detach once ({@link LinkState}).
 * Any other use of a closed link is {@code EBADF}.
 */
public final class BpfTracingLink implements AutoCloseable {
    private final Trampolines owner;
    private final BpfProg prog;
    private final BpfTrampoline tr;
    final TrampNode node;
    private final LinkState state = new LinkState();

    BpfTracingLink(Trampolines owner, BpfProg prog, BpfTrampoline tr, long cookie) {
        this.owner = owner;
        this.prog = prog;
        this.tr = tr;
        this.node = new TrampNode(prog, cookie, this);
    }

    public BpfProg prog() {
        checkOpen();
        return prog;
    }

    /** The traced function's name. */
    public String function() {
        checkOpen();
        return tr.function.name();
    }

    public long cookie() {
        checkOpen();
        return node.cookie;
    }

    public boolean isClosed() {
        return state.isClosed();
    }

    /**
     * {@code bpf_tracing_link_release}: detaches the program. Closing a closed link does nothing.
     * The kernel's release WARNs on an unlink that fails and goes on; here the unlink rolls back
     * instead, and the link stays open.
     *
     * @throws KernelException ENOMEM or EFAULT from building or publishing the image without the
     *         program, ESHUTDOWN if the kernel is closed; the link is then open and attached exactly
     *         as before
     */
    @Override
    public void close() {
        if (state.isClosed()) {
            return;
        }
        try (Kernel.Operation op = owner.kernel().beginOperation("bpf_tracing_link_release of " + prog)) {
            if (!state.claimClose()) {
                return;
            }
            try {
                owner.unlinkRegular(tr, node);
            } catch (RuntimeException e) {
                state.reopened();
                throw e;
            }
            try {
                owner.put(tr);
                prog.put();
            } finally {
                state.closed();
            }
        }
    }

    private void checkOpen() {
        if (state.isClosed()) {
            throw new KernelException(Errno.EBADF, "link of " + prog + " on " + tr.function.name() + " is closed");
        }
    }

    @Override
    public String toString() {
        return "tracing link(" + prog.name() + " on " + tr.function.name() + (state.isClosed() ? ", closed" : "") + ")";
    }
}
