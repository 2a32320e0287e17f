export { magnitude } from './magnitude';
export { wanda } from './wanda';
export { sparsegpt } from './sparsegpt';
