export { magnitude } from './magnitude';
export { wanda } from './wanda';
export { sparsegpt } from './sparsegpt';
export { heads } from './heads';
export { channels } from './channels';
export { layers } from './layers';
