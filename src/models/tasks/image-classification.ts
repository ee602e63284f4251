// The `classification` task for a model that takes images of one fixed size [H, W, C] (a vision
// transformer): samples may come as images (load-dataset `flatten: false`) or flattened in the
// same H, W, C order ([H·W·C]); batches are always [count, H, W, C]. Anything else is refused
// before the model runs, naming the size the model's config asks for.
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { Dataset, DatasetSplit } from '../../plugin-api/dataset.js';
import { ClassificationTask } from './classification.js';

export interface ImageShape {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly classes: number;
  /** Where the size comes from, for messages (e.g. the config.json path). */
  readonly source: string;
}

export class ImageClassificationTask extends ClassificationTask {
  constructor(readonly image: ImageShape) {
    super({
      inputShape: [image.height, image.width, image.channels],
      classes: image.classes,
      outputKind: 'logits',
    });
  }

  override checkData(dataset: Dataset, split: DatasetSplit, where: string): void {
    const { height, width, channels } = this.image;
    const s = split.sampleShape;
    const image = s.length === 3 && s[0] === height && s[1] === width && s[2] === channels;
    const flat = s.length === 1 && s[0] === height * width * channels;
    if (!image && !flat) {
      throw new ScalpelError(
        ErrorCode.Stage,
        `${where}: the model takes ${height}×${width} images with ${channels} channel${channels === 1 ? '' : 's'} ([${height}, ${width}, ${channels}] or flat [${height * width * channels}], from ${this.image.source}) but split '${split.name}' has samples of shape [${s.join(', ')}]`,
        {
          hint: `use a dataset of ${height}×${width}×${channels} images (load-dataset flatten: false), or a model whose image_size and num_channels fit the data`,
        },
      );
    }
    super.checkData(dataset, { ...split, sampleShape: [height, width, channels] }, where);
  }
}
