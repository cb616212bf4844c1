export { main, buildProgram } from './program';
export { EXIT, type Io } from './common';
export { RunDisplay } from './display';
