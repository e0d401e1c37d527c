package dev.remap.engine.share.image;

import java.util.List;

/** Lays out files as one filesystem. Pure and deterministic. */
public interface ImageBuilder {

  /**
   * The image holding files (those it can hold) and the directories listed (which may be empty;
   * each a path of names as in {@link ImageFile}).
   */
  BuiltImage build(List<ImageFile> files, List<List<String>> directories, ImageSpec spec);
}
