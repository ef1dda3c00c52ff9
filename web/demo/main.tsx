import { createRoot } from 'react-dom/client';
import '../file-manager/file-manager.css';
import './demo.css';
import { DemoApp } from './demo-app.js';

const root = document.getElementById('root');
if (root) createRoot(root).render(<DemoApp />);
