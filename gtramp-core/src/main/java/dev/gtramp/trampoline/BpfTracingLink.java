package dev.gtramp.trampoline;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.bpf.BpfProg;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code struct bpf_tracing_link}: one fentry, fexit or fmod_ret program on one function's
 * trampoline. Closing it ({@code bpf_tracing_link_release}) unlinks the program, publishes an image
 * without it and drops the link's references to the trampoline and the program; closing twice does
 * nothing. Any other use of a closed link is {@code EBADF}.
 */
public final class BpfTracingLink implements AutoCloseable {
    private final Trampolines owner;
    private final BpfProg prog;
    private final BpfTrampoline tr;
    final TrampNode node;
    private final AtomicBoolean closed = new AtomicBoolean();

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
        return closed.get();
    }

    /**
     * {@code bpf_tracing_link_release}: detaches the program. Closing a closed link does nothing.
     *
     * @throws KernelException ESHUTDOWN if the kernel is closed; the link stays attached and open
     */
    @Override
    public void close() {
        if (closed.get()) {
            return;
        }
        try (Kernel.Operation op = owner.kernel().beginOperation("bpf_tracing_link_release of " + prog)) {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            owner.unlinkRegular(tr, node);
            owner.put(tr);
            prog.put();
        }
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new KernelException(Errno.EBADF, "link of " + prog + " on " + tr.function.name() + " is closed");
        }
    }

    @Override
    public String toString() {
        return "tracing link(" + prog.name() + " on " + tr.function.name() + (closed.get() ? ", closed" : "") + ")";
    }
}
