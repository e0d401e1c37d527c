package dev.remap.engine.share;

import dev.remap.engine.share.image.Ext4ImageBuilder;
import dev.remap.engine.share.image.Ext4ImageReader;
import dev.remap.engine.share.image.FatImageBuilder;
import dev.remap.engine.share.image.FatImageReader;
import dev.remap.engine.share.image.ImageBuilder;
import dev.remap.engine.share.image.ImageReader;

/** The filesystems a share's disks can have (the API's spec.filesystem). */
public enum ImageFormat {
  EXT4 {
    @Override
    public ImageBuilder builder() {
      return new Ext4ImageBuilder();
    }

    @Override
    public ImageReader reader() {
      return new Ext4ImageReader();
    }
  },
  VFAT {
    @Override
    public ImageBuilder builder() {
      return new FatImageBuilder();
    }

    @Override
    public ImageReader reader() {
      return new FatImageReader();
    }
  };

  public abstract ImageBuilder builder();

  public abstract ImageReader reader();
}
