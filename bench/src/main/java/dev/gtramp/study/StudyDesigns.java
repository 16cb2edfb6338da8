package dev.gtramp.study;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The registry of attach designs: every {@link StudyDesign} on the class path, in the order of their
 * service files. The study runs what this lists; adding a design never changes the study.
 */
public final class StudyDesigns {
    private final Map<String, StudyDesign> byName = new LinkedHashMap<>();

    private StudyDesigns(Iterable<StudyDesign> designs) {
        for (StudyDesign d : designs) {
            StudyDesign earlier = byName.putIfAbsent(d.name(), d);
            if (earlier != null) {
                throw new IllegalStateException("two designs named " + d.name() + ": "
                        + earlier.getClass().getName() + " and " + d.getClass().getName());
            }
        }
    }

    /** Every design the class path registers. */
    public static StudyDesigns load() {
        return new StudyDesigns(ServiceLoader.load(StudyDesign.class, StudyDesign.class.getClassLoader()));
    }

    /** These designs only (for embedding and tests). */
    public static StudyDesigns of(List<StudyDesign> designs) {
        return new StudyDesigns(designs);
    }

    public List<StudyDesign> all() {
        return List.copyOf(byName.values());
    }

    public List<String> names() {
        return List.copyOf(byName.keySet());
    }

    /**
     * The designs named, in the order given.
     *
     * @throws KernelException EINVAL naming the unknown design and listing the known ones
     */
    public List<StudyDesign> select(List<String> names) {
        List<StudyDesign> out = new ArrayList<>();
        for (String n : names) {
            StudyDesign d = byName.get(n.trim());
            if (d == null) {
                throw new KernelException(Errno.EINVAL, "unknown design '" + n.trim() + "'; known designs: "
                        + String.join(", ", byName.keySet()));
            }
            if (!out.contains(d)) {
                out.add(d);
            }
        }
        return out;
    }
}
