package dev.gtramp.kernel.rcu;

/** The context of a reader registered by a thread that is not a simulated CPU. */
final class ThreadContext implements RcuContext {
    private final Thread thread;

    ThreadContext(Thread thread) {
        this.thread = thread;
    }

    @Override
    public Thread owner() {
        return thread;
    }

    @Override
    public boolean inKernel() {
        return false;
    }

    @Override
    public String describe() {
        return "thread " + thread.getName();
    }
}
