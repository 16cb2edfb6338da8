package dev.gtramp.study;

import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.trampoline.Trampolines;
import dev.gtramp.trampoline.TrampolinesConfig;

import java.util.List;

/**
 * One attach design as the study sees it: how a kernel's trampolines are built for it and how a tool
 * attaches one empty program of a kind to many functions with it. Implementations are found by
 * {@link java.util.ServiceLoader} ({@code META-INF/services/dev.gtramp.study.StudyDesign}), so a
 * design added later is one class and one line there, and appears in every study with no change to
 * the study. {@link StudyDesigns} lists them.
 */
public interface StudyDesign {
    /** The name a user gives to {@code --designs}, e.g. {@code tracing-multi}. */
    String name();

    /** One line: what serves the functions and how they are attached. */
    String summary();

    /** How the kernel's trampolines are built for this design. */
    TrampolinesConfig config();

    /**
     * Loads the programs a tool loads for {@code kind} on {@code functions} (one per function when
     * each link needs its own, as a regular fentry program is bound to its target at load; one for
     * a multi link). Called before {@link Loaded#attach()}, timed as the load phase.
     *
     * @param functions the targets, each one the attach checks accept for an empty program of
     *                  {@code kind}
     */
    Loaded load(Trampolines trampolines, BpfTrampKind kind, List<KernelFunction> functions);

    /** Programs loaded and not yet attached. */
    interface Loaded {
        /** How many programs were loaded ({@code BPF_PROG_LOAD} calls). */
        int programs();

        /** Attaches every program; the attach phase. */
        Attachment attach();

        /** Closes programs that were never attached (an interrupted study). */
        void unload();
    }

    /** Attached links; {@link #close()} detaches them all and releases their programs (the detach phase). */
    interface Attachment extends AutoCloseable {
        /** How many links were created ({@code BPF_LINK_CREATE} calls). */
        int links();

        /** The programs attached, each once: what a check counts runs of. */
        List<BpfProg> programs();

        @Override
        void close();
    }
}
