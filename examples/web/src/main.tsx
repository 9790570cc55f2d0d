import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { IndexController } from './indexController.js';
import { sampleSource } from './sources.js';

const controller = new IndexController(sampleSource);
void controller.open();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App controller={controller} />
  </StrictMode>,
);
